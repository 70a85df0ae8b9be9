"""EquiReconDataPreprocessor: theta drawn on the device and recorded in the
data samples, v2 and targets."""
import numpy as np
import pytest
import torch
import torchvision.transforms.v2.functional as TF
from mmcv.transforms import Compose
from mmengine.dataset import default_collate

from mmpretrain.registry import MODELS, TRANSFORMS
from mmpretrain.structures import DataSample

import mmequi  # noqa: F401
from mmequi.models.data_preprocessors import EquiReconDataPreprocessor
from mmequi.param_transforms import Rotation, build_param_transform

from tests.param_transforms._helpers import disk_mask

MEAN = [123.675, 116.28, 103.53]
STD = [58.395, 57.12, 57.375]


def _textured_bgr(h, w, seed=0):
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (h // 6, w // 6, 3)).astype(np.float32)
    big = TF.resize(torch.from_numpy(small).permute(2, 0, 1), [h, w],
                    interpolation=TF.InterpolationMode.BICUBIC)
    return big.clamp(0, 255).round().to(torch.uint8).permute(1, 2, 0).numpy()


def _pipeline_batch(transform_cfg, n=3, seed=0):
    """The real pipeline: multi-crop views, packed, collated; theta is drawn
    by the preprocessor (seeded here)."""
    pipeline = Compose([
        TRANSFORMS.build(cfg) for cfg in [
            dict(type='iBOTMultiCrop', global_size=32, local_size=16,
                 num_local=1, photometric=False),
            dict(type='PackInputs', algorithm_keys=['crop_params']),
        ]
    ])
    np.random.seed(seed)
    torch.manual_seed(seed)
    samples = [pipeline(dict(img=_textured_bgr(60, 70, seed=i)))
               for i in range(n)]
    return default_collate(samples)


def _normalize(x01):
    mean = torch.tensor(MEAN).view(3, 1, 1)
    std = torch.tensor(STD).view(3, 1, 1)
    return (x01 * 255 - mean) / std


def _build(transform_cfg, **kwargs):
    return MODELS.build(
        dict(type='EquiReconDataPreprocessor', transform=transform_cfg,
             mean=MEAN, std=STD, **kwargs))


@pytest.mark.parametrize('cfg', [
    dict(type='rotation', max_angle=45.0),
    dict(type='color'),
    dict(type='blur', sigma=(0.1, 2.0)),
    dict(type='translation', max_shift=10.0),
    dict(type='se2', max_angle=45.0, max_shift=10.0),
    dict(type='compose'),  # rotation, colour, blur, translation at once
])
def test_recorded_theta_is_the_applied_theta(cfg):
    batch = _pipeline_batch(cfg)
    raw = [v.clone() for v in batch['inputs']]
    pre = _build(cfg)
    assert isinstance(pre, EquiReconDataPreprocessor)
    out = pre(batch, training=True)
    views, targets = out['inputs']['views'], out['inputs']['targets']
    assert out['data_samples'] is not None and len(out['data_samples']) == 3
    assert len(views) == 3 and targets.shape == (2, 3, 3, 32, 32)

    # recompute independently from the data samples' theta
    theta = torch.stack([ds.equi_theta for ds in out['data_samples']])
    t = build_param_transform(cfg)
    u01 = raw[1].float() / 255
    v2_ref = t.apply(u01, theta)
    assert torch.allclose(views[1], _normalize(v2_ref), atol=1e-4, rtol=0)
    for k in (1, 2):
        ref = t.apply(u01, theta * (k / 3))
        assert torch.allclose(targets[k - 1], _normalize(ref), atol=1e-4,
                              rtol=0)
    # the other views are only normalised
    for i in (0, 2):
        assert torch.allclose(views[i], _normalize(raw[i].float() / 255),
                              atol=1e-4, rtol=0)
    # the view did change (theta != 0 almost surely)
    assert (views[1] - _normalize(u01)).abs().max() > 1e-2


@pytest.mark.parametrize('cfg', [dict(type='compose'),
                                 dict(type='identity')])
def test_no_targets_with_k0(cfg):
    """K = 0: v2 = g_theta(u) from the recorded theta, no targets; the
    identity family leaves every view as the pipeline made it."""
    batch = _pipeline_batch(cfg)
    raw = [v.clone() for v in batch['inputs']]
    out = _build(cfg, num_intermediate=0)(batch, training=True)
    views, targets = out['inputs']['views'], out['inputs']['targets']
    assert targets.shape == (0, 3, 3, 32, 32)
    theta = torch.stack([ds.equi_theta for ds in out['data_samples']])
    t = build_param_transform(cfg)
    assert theta.shape == (3, t.dim)
    u01 = raw[1].float() / 255
    assert torch.allclose(views[1], _normalize(t.apply(u01, theta)),
                          atol=1e-4, rtol=0)
    moved = (views[1] - _normalize(u01)).abs().max()
    assert moved > 1e-2 if t.dim else moved < 1e-4


def test_rotation_agrees_with_torchvision_on_recorded_angle():
    """Fully independent check of the applied angle: torchvision's rotate of
    the raw view by the recorded angle."""
    batch = _pipeline_batch(dict(type='rotation', max_angle=45.0), n=4,
                            seed=3)
    raw = batch['inputs'][1].float() / 255
    pre = _build(dict(type='rotation', max_angle=45.0))
    out = pre(batch)
    mask = disk_mask(32, 32, 14)
    for b, ds in enumerate(out['data_samples']):
        angle = float(ds.equi_theta[0])
        assert -45 <= angle <= 45
        ref = TF.rotate(raw[b], angle,
                        interpolation=TF.InterpolationMode.BILINEAR)
        v2 = pre.pixels.denormalize(out['inputs']['views'][1][b])
        assert (v2 - ref)[:, mask].abs().max() < 1e-4


def test_make_targets_denormalize_and_options():
    pre = EquiReconDataPreprocessor(
        transform=dict(type='translation', max_shift=4.0),
        num_intermediate=3, view_index=0, mean=MEAN, std=STD)
    u = torch.rand(2, 3, 16, 16)
    theta = np.array([[3.0, -3.0], [0.0, 0.0]], np.float32)
    v2, targets = pre.make_targets(u, theta)
    assert targets.shape == (3, 2, 3, 16, 16)
    assert torch.equal(v2[1], u[1]) and torch.equal(targets[:, 1],
                                                    u[1].expand(3, -1, -1, -1))
    # k = 1 of 3 -> shift (0.75, -0.75)
    ref = build_param_transform(dict(type='translation')).apply(
        u[:1], torch.tensor([[0.75, -0.75]]))
    assert torch.allclose(targets[0, :1], ref, atol=1e-6)
    x = pre.pixels.normalize(u)
    assert torch.allclose(x, _normalize(u), atol=1e-5)
    assert torch.allclose(pre.pixels.denormalize(x), u, atol=1e-6)


def test_forward_view_index_0_k3_fixed_theta():
    """view_index=0, K=3, through forward; a one-point range fixes theta."""
    pre = EquiReconDataPreprocessor(
        transform=dict(type='translation', max_shift=(3.0, 3.0)),
        num_intermediate=3, view_index=0, mean=MEAN, std=STD)
    views = [torch.randint(0, 256, (2, 3, 16, 16), dtype=torch.uint8)
             for _ in range(2)]
    out = pre(dict(inputs=views, data_samples=[DataSample(), DataSample()]))
    assert out['inputs']['targets'].shape == (3, 2, 3, 16, 16)
    for ds in out['data_samples']:
        assert torch.equal(ds.equi_theta, torch.tensor([3.0, 3.0]))
    v0 = pre.pixels.denormalize(out['inputs']['views'][0])
    v2_ref, _ = pre.make_targets(views[0].float() / 255,
                                 np.full((2, 2), 3.0, np.float32))
    assert torch.allclose(v0, v2_ref, atol=1e-5)
    assert torch.allclose(pre.pixels.denormalize(out['inputs']['views'][1]),
                          views[1].float() / 255, atol=1e-5)


def test_draw_and_normalisation_are_the_old_formulas_bit_for_bit():
    """Same seed, same θ in the same order as the old
    ``low + (high - low) * torch.rand(B, dim)``; views and targets equal the
    old ``(x01 - mean / 255) / (std / 255)`` exactly."""
    cfg = dict(type='se2', max_angle=45.0, max_shift=10.0)
    pre = _build(cfg, num_intermediate=2, to_rgb=True)
    g = torch.Generator().manual_seed(4)
    views = [torch.randint(0, 256, (3, 3, 16, 16), dtype=torch.uint8,
                           generator=g) for _ in range(2)]
    torch.manual_seed(0)
    out = pre(dict(inputs=views, data_samples=[DataSample()
                                               for _ in range(3)]))
    theta = torch.stack([ds.equi_theta for ds in out['data_samples']])
    torch.manual_seed(0)
    low = torch.tensor([-45.0, -10.0, -10.0])
    high = torch.tensor([45.0, 10.0, 10.0])
    assert torch.equal(theta, low + (high - low) * torch.rand(3, 3))
    # pinned: the first row as drawn before the refactoring (seed 0)
    assert theta[0].tolist() == [-0.33690643310546875, 5.364436149597168,
                                 -8.230451583862305]
    mean = torch.tensor(MEAN).view(-1, 1, 1)
    std = torch.tensor(STD).view(-1, 1, 1)

    def old_normalize(x01):
        return (x01 - mean / 255.0) / (std / 255.0)

    x01 = [v[:, [2, 1, 0]].float() / 255.0 for v in views]
    v2, targets = build_param_transform(cfg).intermediate(x01[1], theta, 2)
    assert torch.equal(out['inputs']['views'][0], old_normalize(x01[0]))
    assert torch.equal(out['inputs']['views'][1], old_normalize(v2))
    assert torch.equal(out['inputs']['targets'], old_normalize(targets))


def test_fixed_theta_and_bgr_flip():
    pre = EquiReconDataPreprocessor(
        transform=Rotation((10.0, 10.0)), mean=None, std=None, to_rgb=True)
    views = [torch.randint(0, 256, (2, 3, 16, 16), dtype=torch.uint8)
             for _ in range(2)]
    out = pre(dict(inputs=views, data_samples=[DataSample(), DataSample()]))
    rgb0 = views[0].flip(1).float() / 255
    assert torch.equal(out['inputs']['views'][0], rgb0)  # no normalisation
    u = views[1].flip(1).float() / 255
    ref = Rotation().apply(u, torch.tensor([[10.0], [10.0]]))
    assert torch.allclose(out['inputs']['views'][1], ref, atol=1e-6)
    assert [float(ds.equi_theta) for ds in out['data_samples']] == [10.0,
                                                                     10.0]


def test_errors():
    views = [torch.zeros(2, 3, 16, 16, dtype=torch.uint8) for _ in range(2)]
    pre = EquiReconDataPreprocessor(transform=dict(type='se2'), mean=MEAN,
                                    std=STD)
    with pytest.raises(ValueError, match='equi_theta.*no data samples'):
        pre(dict(inputs=views, data_samples=None))
    with pytest.raises(ValueError, match='equi_theta.*1 data samples'):
        pre(dict(inputs=views, data_samples=[DataSample()]))
    for bad_index in (2, -1):  # g_θ goes on views[0] or views[1]
        with pytest.raises(ValueError, match=f'view_index={bad_index}'):
            EquiReconDataPreprocessor(transform=dict(type='se2'),
                                      view_index=bad_index)
    with pytest.raises(IndexError, match='view_index=1 but the batch has 1'):
        EquiReconDataPreprocessor(transform=dict(type='se2'))(
            dict(inputs=views[:1], data_samples=[DataSample(), DataSample()]))
    with pytest.raises(TypeError, match='theta_source'):  # removed argument
        EquiReconDataPreprocessor(theta_source='device')
    with pytest.raises(ValueError,
                       match='num_intermediate must be an int >= 0'):
        EquiReconDataPreprocessor(num_intermediate=-1)
    with pytest.raises(KeyError, match='rotation'):
        EquiReconDataPreprocessor(transform=dict(type='warp'))
