"""The synthetic-probe protocols: the paper's zero fill leaks θ, the
``'crop'`` protocol does not.

A probe can only be trusted if an encoder that cannot see the property
fails it and one that sees it passes. Here the frozen "backbones" are
hand-written encoders:

* content-blind: a detector of black (fill) pixels per 8x8 cell, which
  ignores the image content entirely;
* orientation-blind: per-channel means, and ring statistics around the
  centre (both invariant to rotating the content);
* an oracle: the position of a bright dot, from which θ follows exactly;

and the real probe (EquivarianceProbe, MLP heads, Adam, EquivarianceR2) is
trained on their features. Under the zero-fill protocol the blind
encoders predict θ (or |θ|), which proves the leak; under ``'crop'`` they
score ≈ 0 while the oracle still scores ≈ 1.
"""
import math

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.evaluator import Evaluator
from mmengine.optim import OptimWrapper
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from mmequi.evaluation import EquivarianceR2, r2_sie
from mmequi.models import EquivarianceProbe
from mmequi.models.data_preprocessors import (ProbeDataPreprocessor,
                                              TransformProbeDataPreprocessor)
from mmequi.models.data_preprocessors.probe_data_preprocessor import \
    hash_uniform
from mmequi.param_transforms import (build_param_transform, leak_free_window,
                                     rotation_extent, se2_warp,
                                     window_is_leak_free)

SIZE = 64
TRANSFORMS = dict(rot=dict(type='rotation', max_angle=45.0),
                  trans=dict(type='translation', max_shift=10.0))


# ---------------------------------------------------------------- encoders
@MODELS.register_module(force=True)
class _FillDetector(nn.Module):
    """Fraction of black pixels (all channels < 1e-3) in each 8x8 cell:
    sees only the fill region, never the content (which is >= 0.2)."""

    def __init__(self):
        super().__init__()
        self.dummy = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        black = (x.amax(1, keepdim=True) < 1e-3).float()  # (B, 1, H, W)
        return nn.functional.adaptive_avg_pool2d(black, 8).flatten(1)


@MODELS.register_module(force=True)
class _ChannelMeans(nn.Module):
    def __init__(self):
        super().__init__()
        self.dummy = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        return x.mean((2, 3))  # (B, 3)


@MODELS.register_module(force=True)
class _RingStats(nn.Module):
    """Mean and std of the grey value in 12 rings around the centre, out
    to the corners: invariant to rotating the image about its centre."""

    def __init__(self):
        super().__init__()
        self.dummy = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        b, _, h, w = x.shape
        yy, xx = torch.meshgrid(torch.arange(h) - (h - 1) / 2,
                                torch.arange(w) - (w - 1) / 2, indexing='ij')
        radius = torch.sqrt(xx**2 + yy**2)
        ring = (radius / (radius.max() + 1e-6) * 12).long()
        grey = x.mean(1).flatten(1)  # (B, H*W)
        feats = []
        for r in range(12):
            sel = grey[:, (ring == r).flatten()]
            feats += [sel.mean(1), sel.std(1)]
        return torch.stack(feats, 1)  # (B, 24)


@MODELS.register_module(force=True)
class _DotOracle(nn.Module):
    """Centroid (relative to the centre, in units of the image side) of
    what is brighter than the 0.5 grey background: the dot's position."""

    def __init__(self):
        super().__init__()
        self.dummy = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        b, _, h, w = x.shape
        m = (x.mean(1) - 0.55).clamp(min=0)  # (B, H, W)
        yy, xx = torch.meshgrid(torch.arange(h) - (h - 1) / 2,
                                torch.arange(w) - (w - 1) / 2, indexing='ij')
        s = m.sum((1, 2)).clamp(min=1e-6)
        return torch.stack([(m * xx).sum((1, 2)) / s / w,
                            (m * yy).sum((1, 2)) / s / h], 1)


# ------------------------------------------------------------------ images
def _content_images(n: int, seed: int) -> torch.Tensor:
    """Smooth random colour images in [0.2, 0.8] (no black pixel)."""
    g = torch.Generator().manual_seed(seed)
    yy, xx = torch.meshgrid(torch.arange(SIZE).float(),
                            torch.arange(SIZE).float(), indexing='ij')
    img = 0.35 + 0.3 * torch.rand(n, 3, 1, 1, generator=g)
    for _ in range(6):
        cx, cy = (torch.rand(2, n, 1, 1, generator=g) * SIZE)
        sig = 4 + 10 * torch.rand(n, 1, 1, generator=g)
        amp = (torch.rand(n, 3, 1, 1, generator=g) - 0.5) * 0.5
        blob = torch.exp(-((xx - cx)**2 + (yy - cy)**2) / (2 * sig**2))
        img = img + amp * blob[:, None]
    return (img.clamp(0.2, 0.8) * 255).round().to(torch.uint8)


def _dot_images(n: int, seed: int) -> torch.Tensor:
    """A bright dot at radius 4..6 px from the centre on 0.5 grey."""
    g = torch.Generator().manual_seed(seed)
    yy, xx = torch.meshgrid(torch.arange(SIZE) - (SIZE - 1) / 2,
                            torch.arange(SIZE) - (SIZE - 1) / 2,
                            indexing='ij')
    r = 4 + 2 * torch.rand(n, 1, 1, generator=g)
    a = torch.rand(n, 1, 1, generator=g) * 2 * math.pi
    cx, cy = r * torch.cos(a), r * torch.sin(a)
    dot = torch.exp(-((xx - cx)**2 + (yy - cy)**2) / (2 * 1.2**2))
    img = (0.5 + 0.5 * dot)[:, None].expand(n, 3, SIZE, SIZE)
    return (img * 255).round().to(torch.uint8)


# ------------------------------------------------------------------- probe
def _batch(images, protocol, offset):
    pre = MODELS.build(dict(type='TransformProbeDataPreprocessor',
                            transforms=TRANSFORMS, seed=0, protocol=protocol,
                            mean=[0, 0, 0], std=[255, 255, 255]))
    samples = [DataSample(metainfo=dict(sample_idx=offset + i))
               for i in range(len(images))]
    out = pre(dict(inputs=images, data_samples=samples))
    for s in out['data_samples']:  # |θ|: what a rotation-invariant sees
        s.set_field(np.abs(s.probe_rot) * 2 - 1, 'probe_absrot')
    return out['inputs'], out['data_samples']


def _probe_r2(backbone: str, images, protocol: str, steps: int = 300
              ) -> dict:
    """Train the probe's heads (EquivarianceProbe: MLP heads, standardised
    inputs, MSE, Adam) on the frozen features of 3/4 of the images; R²
    (``r2_sie``) on the rest. The features are computed once."""
    torch.manual_seed(0)
    head = dict(type='MLPNeck', hidden_channels=64, num_layers=3,
                norm_cfg=None, act='ReLU')
    tasks = dict(rot=dict(views=(0, 1), target='probe_rot', out_channels=1,
                          head=head),
                 absrot=dict(views=(0, 1), target='probe_absrot',
                             out_channels=1, head=head),
                 trans=dict(views=(0, 2), target='probe_trans',
                            out_channels=2, head=head))
    model = EquivarianceProbe(backbone=dict(type=backbone), tasks=tasks,
                              num_views=3, dummy_size=SIZE, input_norm=True)
    n_train = len(images) * 3 // 4
    (tr_in, tr_s), (te_in, te_s) = (_batch(images[:n_train], protocol, 0),
                                    _batch(images[n_train:], protocol,
                                           n_train))
    with torch.no_grad():
        tr_f, te_f = model.extract_feat(tr_in), model.extract_feat(te_in)

    tr_y, te_y = ({t: model._target(samples, tasks[t]['target'], t, 'cpu')
                   for t in tasks} for samples in (tr_s, te_s))
    optim = OptimWrapper(torch.optim.Adam(model.heads.parameters(),
                                          lr=2e-3, weight_decay=1e-4))
    model.train()
    for _ in range(steps):
        out = model._head_outputs(tr_f)
        optim.update_params(sum(F.mse_loss(out[t], tr_y[t]) for t in tasks))
    model.eval()
    with torch.no_grad():
        out = model._head_outputs(te_f)
    return {t: r2_sie(te_y[t].numpy(), out[t].numpy()) for t in tasks}


@pytest.fixture(scope='module')
def content():
    return _content_images(1600, seed=1)


@pytest.mark.parametrize('encoder', ['_FillDetector', '_RingStats',
                                     '_ChannelMeans'])
def test_blind_encoders_score_zero_leak_free(content, encoder):
    r2 = _probe_r2(encoder, content, 'crop')
    for task in ('rot', 'absrot', 'trans'):
        assert r2[task] < 0.1, (encoder, task, r2)


def test_zero_fill_leaks_theta_to_blind_encoders(content):
    """The paper's protocol: the fill region alone gives θ away."""
    fill = _probe_r2('_FillDetector', content, 'zero_fill')
    assert fill['rot'] > 0.9 and fill['trans'] > 0.9, fill
    rings = _probe_r2('_RingStats', content, 'zero_fill')
    assert rings['absrot'] > 0.7, rings  # |θ| from the black corners


@pytest.mark.parametrize('protocol', ['zero_fill', 'crop'])
def test_oracle_scores_one(protocol):
    r2 = _probe_r2('_DotOracle', _dot_images(1600, seed=2), protocol,
                   steps=600)
    assert r2['rot'] > 0.9 and r2['trans'] > 0.97, r2


def test_metric_names_carry_the_protocol(content):
    pre_inputs, samples = _batch(content[:4], 'crop', 0)
    assert all(s.probe_protocol == 'crop' for s in samples)
    ev = Evaluator(EquivarianceR2(tasks=['rot']))
    for s in samples:
        s.set_field(torch.zeros(1), 'pred_rot')
        s.set_field(torch.as_tensor(s.probe_rot), 'gt_rot')
    ev.process(samples)
    assert set(ev.evaluate(4)) == {'r2_crop/rot_sie', 'r2_crop/rot_mean',
                                   'r2_crop/rot_mse'}
    wrong = Evaluator(EquivarianceR2(tasks=['rot'], protocol='zero_fill'))
    wrong.process(samples)
    with pytest.raises(ValueError, match="protocol 'crop'"):
        wrong.evaluate(4)


# ------------------------------------------------------------- the window
@pytest.mark.parametrize('cfg,expect', [
    (dict(rot=dict(type='rotation', max_angle=45.0)), 45),
    (dict(rot=dict(type="rotation", max_angle=20.0)), 49),
    (dict(trans=dict(type='translation', max_shift=10.0)), 43),
    (TRANSFORMS, 43),
    (dict(se2=dict(type='se2', max_angle=45.0, max_shift=10.0)), 24),
    (dict(color=dict(type='color'), blur=dict(type='blur')), 64),
])
def test_leak_free_window_is_the_largest_without_fill(cfg, expect):
    """The formula against brute force: warp an all-ones image with every
    θ on a fine grid of the range (extremes included); no output pixel of
    the window may fall below 1, and one pixel more must let fill in."""
    ts = [build_param_transform(c) for c in cfg.values()]
    win = leak_free_window(SIZE, SIZE, [t.max_extent() for t in ts])
    assert win == expect

    def min_value(window):
        ones = torch.ones(1, 3, SIZE, SIZE, dtype=torch.float64)
        worst = 1.0
        for t in ts:
            grids = [np.linspace(lo, hi, 9) for lo, hi in zip(t.low, t.high)]
            thetas = np.stack(np.meshgrid(*grids), -1).reshape(-1, t.dim)
            theta = torch.from_numpy(thetas)
            warp = t.warp(theta)
            if warp is None:
                continue
            out = se2_warp(ones.expand(len(theta), -1, -1, -1), *warp,
                           window, SIZE)
            worst = min(worst, float(out.min()))
        return worst

    assert min_value(win) > 1 - 1e-9
    if any(t.warp(torch.zeros(1, t.dim)) is not None for t in ts):
        assert min_value(win + 1) < 1 - 1e-6


def test_rotation_extent():
    assert rotation_extent(-45, 45) == pytest.approx(math.sqrt(2))
    assert rotation_extent(-10, 20) == pytest.approx(
        math.cos(math.radians(20)) + math.sin(math.radians(20)))
    assert rotation_extent(100, 140) == pytest.approx(math.sqrt(2))  # 135
    assert rotation_extent(100, 130) == pytest.approx(
        abs(math.cos(math.radians(130))) + math.sin(math.radians(130)))
    assert rotation_extent(0, 0) == 1.0


def test_crop_views_are_windows_of_the_transformed_image():
    """θ = 0 view = the plain window; a translation moves the window over
    the image (compare with slicing an integer shift); rotation by 90°
    on a square window is exact (a rot90 of the window)."""
    pre = MODELS.build(dict(type='TransformProbeDataPreprocessor',
                            transforms=dict(
                                rot=dict(type='rotation',
                                         max_angle=(90.0, 90.000001)),
                                trans=dict(type='translation',
                                           max_shift=(4.0, 4.000001))),
                            protocol='crop', crop_size=20, out_size=20,
                            mean=[0, 0, 0], std=[255, 255, 255]))
    img = torch.randint(0, 256, (2, 3, 32, 32), dtype=torch.uint8)
    samples = [DataSample(metainfo=dict(sample_idx=i)) for i in range(2)]
    views = pre(dict(inputs=img, data_samples=samples))['inputs']['views']
    x = img.float() / 255
    torch.testing.assert_close(views[0], x[:, :, 6:26, 6:26])
    # content moves right/down by 4 px: the window shows x[y - 4, x - 4]
    torch.testing.assert_close(views[2], x[:, :, 2:22, 2:22], atol=2e-5,
                               rtol=0)
    torch.testing.assert_close(views[1], torch.rot90(x[:, :, 6:26, 6:26],
                                                     1, (2, 3)),
                               atol=2e-5, rtol=0)


def test_crop_protocol_errors():
    with pytest.raises(ValueError, match='protocol='):
        MODELS.build(dict(type='TransformProbeDataPreprocessor',
                          transforms=TRANSFORMS, protocol='disk'))
    with pytest.raises(ValueError, match="apply to protocol='crop'"):
        MODELS.build(dict(type='TransformProbeDataPreprocessor',
                          transforms=TRANSFORMS, crop_size=40))
    pre = MODELS.build(dict(type='TransformProbeDataPreprocessor',
                            transforms=TRANSFORMS, protocol='crop',
                            crop_size=50))
    img = torch.zeros(1, 3, SIZE, SIZE, dtype=torch.uint8)
    with pytest.raises(ValueError, match='crop_size=50 lets zero fill.*'
                       'largest leak-free window is 43'):
        pre(dict(inputs=img, data_samples=[
            DataSample(metainfo=dict(sample_idx=0))]))
    assert window_is_leak_free(SIZE, 43, SIZE, [(1.0, 10.0)])
    assert not window_is_leak_free(SIZE, 44, SIZE, [(1.0, 10.0)])


def test_draw_and_views_are_the_old_formulas_bit_for_bit():
    """θ = low + (high - low) * hash_uniform(seed, idx, stream, dim) in
    float64, cast to float32 (values pinned from before the refactoring),
    and views ``(x01 * 255 - mean) / std`` exactly as before."""
    cfg = dict(rot=dict(type='rotation', max_angle=45.0),
               color=dict(type='color'))
    mean, std = [123.675, 116.28, 103.53], [58.395, 57.12, 57.375]
    pre = TransformProbeDataPreprocessor(transforms=cfg, seed=3, mean=mean,
                                         std=std, to_rgb=True)
    idx = np.array([0, 5, 17])
    theta = pre.draw(idx)
    for stream, (name, t) in enumerate(pre.transforms.items()):
        u = hash_uniform(3, idx, stream, t.dim)
        ref = (t.low + (t.high - t.low) * u).astype(np.float32)
        np.testing.assert_array_equal(theta[name], ref)
    np.testing.assert_array_equal(
        theta['rot'][:, 0],
        np.float32([-42.6209602355957, -32.25973892211914,
                    -14.263955116271973]))
    np.testing.assert_array_equal(
        theta['color'][0],
        np.float32([0.21244268119335175, 0.31851422786712646,
                    -0.37728339433670044, -0.08602779358625412]))

    g = torch.Generator().manual_seed(0)
    img = torch.randint(0, 256, (3, 3, 16, 16), dtype=torch.uint8,
                        generator=g)
    samples = []
    for i in idx:
        ds = DataSample()
        ds.set_metainfo(dict(sample_idx=int(i)))
        samples.append(ds)
    out = pre(dict(inputs=img, data_samples=samples))
    m = torch.tensor(mean).view(-1, 1, 1)
    s = torch.tensor(std).view(-1, 1, 1)
    x01 = img[:, [2, 1, 0]].float() / 255.0
    views = out['inputs']['views']
    assert torch.equal(views[0], (x01 * 255.0 - m) / s)
    for v, (name, t) in enumerate(pre.transforms.items(), start=1):
        gx = t.apply(x01, torch.from_numpy(theta[name]))
        assert torch.equal(views[v], (gx * 255.0 - m) / s)
    plain = ProbeDataPreprocessor(mean=mean, std=std, to_rgb=True)(
        dict(inputs=img, data_samples=None))['inputs']['views'][0]
    assert torch.equal(plain, (x01 * 255.0 - m) / s)
    raw = ProbeDataPreprocessor()(dict(inputs=img, data_samples=None))
    assert torch.equal(raw['inputs']['views'][0],
                       img.float() / 255.0 * 255.0)  # 0..255 as mmpretrain
