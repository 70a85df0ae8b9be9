import numpy as np
import pytest
import torch
import torch.nn as nn
from mmengine.evaluator import Evaluator
from mmengine.optim import OptimWrapper
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from mmequi.evaluation import EquivarianceR2, r2_sie
from mmequi.models import EquivarianceProbe
from mmequi.models.utils import CacheMismatchError


@MODELS.register_module(force=True)
class _PixelsBackbone(nn.Module):
    """Test backbone: the features are the image's pixels (B, 3*H*W)."""

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(1))
        self.calls = 0

    def forward(self, x):
        self.calls += x.shape[0]
        return (x * self.scale).flatten(1)


def _probe(tasks, num_views=2, **kwargs):
    return EquivarianceProbe(
        backbone=dict(type='_PixelsBackbone'), tasks=tasks,
        num_views=num_views, dummy_size=2,
        data_preprocessor=dict(type='ProbeDataPreprocessor'), **kwargs)


def _linear_task(out, name='rot'):
    return {name: dict(views=(0, 1), target='y',
                       head=dict(type='MLPNeck', hidden_channels=16,
                                 out_channels=out, num_layers=1,
                                 norm_cfg=None))}


def _inputs(v1, v2, y, paths=None):
    """views as (B, 3, 2, 2) 'images' carrying 12 feature values."""
    samples = []
    for i in range(len(y)):
        s = DataSample()
        s.set_field(torch.as_tensor(y[i]), 'y')
        if paths is not None:
            s.set_metainfo(dict(img_path=list(paths[i])))
        samples.append(s)
    keys = None if paths is None else [[p[0] for p in paths],
                                       [p[1] for p in paths]]
    return dict(views=[v1.reshape(-1, 3, 2, 2), v2.reshape(-1, 3, 2, 2)],
                keys=keys), samples


def _fit(model, inputs, samples, steps=600, lr=1e-2):
    optim = OptimWrapper(torch.optim.Adam(model.heads.parameters(), lr=lr))
    model.train()
    for _ in range(steps):
        losses = model.loss(inputs, samples)
        optim.update_params(sum(losses.values()))
    model.eval()


def _r2(model, inputs, samples):
    ev = Evaluator(EquivarianceR2(tasks=['rot']))
    ev.process(model.predict(inputs, samples))
    return ev.evaluate(len(samples))


def _pair_data(n, seed, linear=True):
    """f2 - f1 = W theta (a known linear function of the target)."""
    g = torch.Generator().manual_seed(seed)
    theta = torch.rand(n, 3, generator=g) * 2 - 1
    f1 = torch.randn(n, 12, generator=g)
    w = torch.randn(3, 12, generator=torch.Generator().manual_seed(99))
    f2 = f1 + theta @ w if linear else torch.randn(n, 12, generator=g)
    return f1, f2, theta


def test_linear_probe_on_linear_features_reaches_r2_099():
    torch.manual_seed(0)
    model = _probe(_linear_task(3))
    f1, f2, y = _pair_data(512, seed=1)
    _fit(model, *_inputs(f1, f2, y))
    f1, f2, y = _pair_data(256, seed=2)  # held out
    out = _r2(model, *_inputs(f1, f2, y))
    assert out['r2/rot_sie'] > 0.99 and out['r2/rot_mean'] > 0.99


def test_linear_probe_on_noise_stays_near_zero():
    torch.manual_seed(0)
    model = _probe(_linear_task(3))
    f1, f2, y = _pair_data(512, seed=1, linear=False)
    _fit(model, *_inputs(f1, f2, y), steps=300)
    f1, f2, y = _pair_data(512, seed=2, linear=False)
    out = _r2(model, *_inputs(f1, f2, y))
    assert -0.15 < out['r2/rot_sie'] < 0.05
    assert -0.15 < out['r2/rot_mean'] < 0.05


def test_heads_train_independently_as_alone():
    """Two tasks in one probe give the same head as training one alone."""
    f1, f2, y = _pair_data(64, seed=3)
    inputs, samples = _inputs(f1, f2, y)
    for s in samples:
        s.set_field(s.y[:1] * 2, 'z')
    both = dict(_linear_task(3), hue=dict(
        views=(1, ), target='z', head=dict(type='MLPNeck', hidden_channels=4,
                                           out_channels=1, num_layers=2,
                                           norm_cfg=None)))
    torch.manual_seed(0)
    a = _probe(both)
    torch.manual_seed(0)
    b = _probe(_linear_task(3))
    b.heads['rot'].load_state_dict(a.heads['rot'].state_dict())
    _fit(a, inputs, samples, steps=20)
    _fit(b, inputs, samples, steps=20)
    for pa, pb in zip(a.heads['rot'].parameters(),
                      b.heads['rot'].parameters()):
        torch.testing.assert_close(pa, pb, rtol=0, atol=1e-6)
    assert a.heads['hue'].layers[0].in_features == 12  # one view


def test_backbone_frozen_and_no_grad():
    model = _probe(_linear_task(3))
    f1, f2, y = _pair_data(8, seed=4)
    model.train()
    assert not model.backbone.training
    loss = sum(model.loss(*_inputs(f1, f2, y)).values())
    loss.backward()
    assert model.backbone.scale.grad is None
    assert all(p.grad is not None for p in model.heads.parameters())


def test_feature_cache_hits_and_matches():
    model = _probe(_linear_task(3), cache_features=True)
    f1, f2, y = _pair_data(6, seed=5)
    paths = [(f'a{i}.jpg', f'b{i}.jpg') for i in range(6)]
    inputs, samples = _inputs(f1, f2, y, paths)
    model.eval()
    first = model.extract_feat(inputs)
    assert model.backbone.calls == 12 + 1  # + the dummy forward at init
    second = model.extract_feat(inputs)  # all hits, verified once
    torch.testing.assert_close(first, second)
    assert model.backbone.calls == 12 + 1 + 12  # the verification pass
    third = model.extract_feat(inputs)
    assert model.backbone.calls == 25  # no more backbone calls
    torch.testing.assert_close(first, third)
    torch.testing.assert_close(first[0], f1)
    torch.testing.assert_close(first[1], f2)
    # view b2 shared with another pair: partially cached batch
    mixed, _ = _inputs(f2[:2], f1[:2], y[:2], [('b2.jpg', 'new.jpg')] * 2)
    out = model.extract_feat(mixed)
    torch.testing.assert_close(out[0], f2[[2, 2]])  # from the cache
    torch.testing.assert_close(out[1], f1[:2])  # fresh


def test_feature_cache_detects_a_random_pipeline():
    model = _probe(_linear_task(3), cache_features=True)
    f1, f2, y = _pair_data(4, seed=6)
    paths = [(f'a{i}.jpg', f'b{i}.jpg') for i in range(4)]
    model.eval()
    model.extract_feat(_inputs(f1, f2, y, paths)[0])
    flipped = _inputs(f1.flip(1), f2, y, paths)[0]  # same names, new pixels
    with pytest.raises(CacheMismatchError, match='a0.jpg'):
        model.extract_feat(flipped)


def test_cache_needs_names():
    model = _probe(_linear_task(3), cache_features=True)
    f1, f2, y = _pair_data(2, seed=7)
    with pytest.raises(ValueError, match='img_path'):
        model.extract_feat(_inputs(f1, f2, y)[0])


def test_classification_task_sets_mmpretrain_fields():
    tasks = dict(cls=dict(type='classification', views=(0, ),
                          target='gt_label',
                          head=dict(type='MLPNeck', hidden_channels=4,
                                    out_channels=3, num_layers=1,
                                    norm_cfg=None)))
    model = _probe(tasks, num_views=1)
    x = torch.randn(5, 3, 2, 2)
    samples = [DataSample().set_gt_label(i % 3) for i in range(5)]
    inputs = dict(views=[x], keys=None)
    loss = model.loss(inputs, samples)['loss_cls']
    logits = model.heads['cls'](x.flatten(1))
    labels = torch.tensor([i % 3 for i in range(5)])
    torch.testing.assert_close(loss, nn.functional.cross_entropy(logits,
                                                                 labels))
    out = model.predict(inputs, samples)
    torch.testing.assert_close(out[0].pred_score, logits.softmax(1)[0])
    assert int(out[1].pred_label) == int(logits[1].argmax())


def test_task_config_errors():
    with pytest.raises(ValueError, match='views'):
        _probe({'rot': dict(views=(0, 2), target='y', head=dict(
            type='MLPNeck', hidden_channels=2, out_channels=1))})
    with pytest.raises(KeyError, match='target'):
        _probe({'rot': dict(views=(0, 1), head=dict(type='MLPNeck'))})
    with pytest.raises(ValueError, match='in_channels=7'):
        _probe({'rot': dict(views=(0, 1), target='y', head=dict(
            type='MLPNeck', in_channels=7, hidden_channels=2,
            out_channels=1))})
    model = _probe(_linear_task(2))
    f1, f2, y = _pair_data(3, seed=8)  # 3-d target, 2 outputs
    with pytest.raises(ValueError, match='target "y"'):
        model.loss(*_inputs(f1, f2, y))


def test_load_backbone_strict(tmp_path):
    src = _probe(_linear_task(3))
    with torch.no_grad():
        src.backbone.scale.fill_(3.0)
    state = {f'teacher.backbone.{k}': v
             for k, v in src.backbone.state_dict().items()}
    state['teacher.backbone.mask_token'] = torch.zeros(1)
    ckpt = tmp_path / 'ssl.pth'
    torch.save(dict(state_dict=state, meta=dict()), ckpt)
    model = _probe(_linear_task(3), backbone_checkpoint=str(ckpt),
                   prefix='teacher.backbone.')
    model.init_weights()
    assert float(model.backbone.scale) == 3.0
    with pytest.raises(KeyError, match=r"'teacher\.'"):
        _probe(_linear_task(3)).load_backbone(str(ckpt), 'student.')
    torch.save(dict(state_dict={'teacher.backbone.other': torch.ones(1)}),
               ckpt)
    with pytest.raises(KeyError, match=r"missing keys \['scale'\]"):
        _probe(_linear_task(3)).load_backbone(str(ckpt),
                                              'teacher.backbone.')


def test_ignored_key_may_be_missing_from_the_checkpoint(tmp_path):
    """An iBOTViT probe loads a plain-ViT (VICReg-family) checkpoint: the
    ignored mask_token keeps the probe's own value, every other tensor is
    the checkpoint's, and a missing key outside ignore_keys is an error."""
    from mmpretrain.models import VisionTransformer
    arch = dict(embed_dims=16, num_layers=1, num_heads=2,
                feedforward_channels=32)
    plain = VisionTransformer(arch=arch, img_size=32, patch_size=16)
    with torch.no_grad():
        for p in plain.parameters():
            p.normal_()
    ckpt = tmp_path / 'vicreg.pth'
    torch.save(dict(state_dict={f'backbone.{k}': v for k, v in
                                plain.state_dict().items()}), ckpt)
    probe = EquivarianceProbe(
        backbone=dict(type='iBOTViT', arch=arch, img_size=32, patch_size=16),
        tasks=_linear_task(3), dummy_size=32,
        data_preprocessor=dict(type='ProbeDataPreprocessor'))
    own_mask = probe.backbone.mask_token.detach().clone()
    probe.load_backbone(str(ckpt), 'backbone.')
    got = probe.backbone.state_dict()
    assert torch.equal(got['mask_token'], own_mask)
    for k, v in plain.state_dict().items():
        assert torch.equal(got[k], v), k
    state = {f'backbone.{k}': v for k, v in plain.state_dict().items()
             if k != 'cls_token'}
    torch.save(dict(state_dict=state), ckpt)
    with pytest.raises(KeyError, match=r"missing keys \['cls_token'\]"):
        probe.load_backbone(str(ckpt), 'backbone.')


def _splitmix_uniform(seed, index, stream, d):
    """Pure-Python SplitMix64 finaliser (independent of the numpy one)."""
    m = (1 << 64) - 1
    x = (seed * 0x9E3779B97F4A7C15 + index * 0xBF58476D1CE4E5B9 +
         stream * 0x94D049BB133111EB + d * 0xD6E8FEB86659FD93) & m
    x ^= x >> 30
    x = (x * 0xBF58476D1CE4E5B9) & m
    x ^= x >> 27
    x = (x * 0x94D049BB133111EB) & m
    x ^= x >> 31
    return (x >> 11) / float(1 << 53)


def test_hash_uniform_matches_python_and_is_uniform():
    from mmequi.models.data_preprocessors.probe_data_preprocessor import \
        hash_uniform
    idx = np.array([0, 1, 7, 123456789])
    u = hash_uniform(5, idx, 2, 3)
    for i, s in enumerate(idx):
        for d in range(3):
            assert u[i, d] == _splitmix_uniform(5, int(s), 2, d)
    big = hash_uniform(0, np.arange(20000), 0, 2)
    assert 0 <= big.min() and big.max() < 1
    assert abs(big.mean() - 0.5) < 0.01 and abs(big.std() - 12 ** -0.5) < 0.01
    assert abs(np.corrcoef(big[:, 0], big[:, 1])[0, 1]) < 0.03


def test_transform_probe_preprocessor_views_targets_and_keys():
    from mmequi.param_transforms import build_param_transform
    pre = MODELS.build(dict(
        type='TransformProbeDataPreprocessor',
        transforms=dict(rot=dict(type='rotation', max_angle=45.0),
                        trans=dict(type='translation', max_shift=4.0)),
        seed=3, mean=[0, 0, 0], std=[255, 255, 255]))
    imgs = torch.randint(0, 256, (3, 3, 8, 8), dtype=torch.uint8)
    samples = [DataSample(metainfo=dict(sample_idx=i + 10,
                                        img_path=f'im{i}.jpg'))
               for i in range(3)]
    out = pre(dict(inputs=imgs, data_samples=samples))
    views, keys = out['inputs']['views'], out['inputs']['keys']
    assert len(views) == 3
    x01 = imgs.float() / 255
    torch.testing.assert_close(views[0], x01)
    rot = build_param_transform(dict(type='rotation', max_angle=45.0))
    for i, s in enumerate(out['data_samples']):
        th_rot = np.float32([-45 + 90 * _splitmix_uniform(3, i + 10, 0, 0)])
        th_tr = np.float32([-4 + 8 * _splitmix_uniform(3, i + 10, 1, d)
                            for d in range(2)])
        np.testing.assert_allclose(s.theta_rot, th_rot, rtol=1e-6)
        np.testing.assert_allclose(s.theta_trans, th_tr, rtol=1e-6)
        np.testing.assert_allclose(s.probe_rot, th_rot / 45, rtol=1e-5)
        np.testing.assert_allclose(s.probe_trans, th_tr / 4, rtol=1e-5)
        expect = rot.apply(x01[i:i + 1], torch.from_numpy(th_rot)[None])
        torch.testing.assert_close(views[1][i:i + 1], expect)
        assert keys[0][i] == f'im{i}.jpg'
        assert keys[1][i] == f'im{i}.jpg|rot|{th_rot.tobytes().hex()}'
    # batch composition does not matter: sample 11 alone, same view
    again = pre(dict(inputs=imgs[1:2], data_samples=[
        DataSample(metainfo=dict(sample_idx=11, img_path='x'))]))
    torch.testing.assert_close(again['inputs']['views'][2], views[2][1:2])
    # with an attached cache, views whose features are cached are skipped
    from mmequi.models.utils import FeatureCache
    cache = FeatureCache(verify_batches=0)
    pre.attach_cache(cache)
    cache.put([cache.full_key(k, False) for k in keys[1]],
              torch.zeros(3, 1))
    lazy = pre(dict(inputs=imgs, data_samples=[
        DataSample(metainfo=dict(sample_idx=i + 10, img_path=f'im{i}.jpg'))
        for i in range(3)]))['inputs']['views']
    assert lazy[1] is None and lazy[2] is not None
    assert pre(dict(inputs=imgs, data_samples=[
        DataSample(metainfo=dict(sample_idx=i + 10, img_path=f'im{i}.jpg'))
        for i in range(3)]), training=True)['inputs']['views'][1] is not None
    with pytest.raises(ValueError, match='empty range'):
        MODELS.build(dict(type='TransformProbeDataPreprocessor',
                          transforms=dict(rot=dict(type='rotation',
                                                   max_angle=0.0))))


def test_r2_helper_consistent_with_metric():
    y = np.array([[0.0, 2.0], [2.0, 4.0]])
    assert r2_sie(y, y) == 1.0


def test_probe_on_a_frozen_neck_part(tmp_path):
    """The method's split lives in the head: a probe on the head's output,
    one slice of it, loaded strictly from the pretraining checkpoint."""
    neck_cfg = dict(type='MLPNeck', in_channels=12, hidden_channels=8,
                    out_channels=6, num_layers=2, norm_cfg=None)
    torch.manual_seed(0)
    src = MODELS.build(neck_cfg)
    state = {f'teacher.neck.{k}': v for k, v in src.state_dict().items()}
    state['teacher.backbone.scale'] = torch.full((1, ), 2.0)
    ckpt = tmp_path / 'ssl.pth'
    torch.save(dict(state_dict=state), ckpt)
    model = _probe(_linear_task(3), neck=neck_cfg, channels=(4, 6),
                   backbone_checkpoint=str(ckpt),
                   prefix='teacher.backbone.')
    assert model.neck_prefix == 'teacher.neck.'
    assert model.feature_dim == 2
    model.init_weights()
    x = torch.randn(5, 3, 2, 2)
    feats = model.extract_feat(dict(views=[x, x], keys=None))
    with torch.no_grad():
        expect = src(2.0 * x.flatten(1))[:, 4:6]
    torch.testing.assert_close(feats[0], expect)
    model.train()
    assert not model.neck.training
    assert all(not p.requires_grad for p in model.neck.parameters())
    del state['teacher.neck.layers.2.bias']
    torch.save(dict(state_dict=state), ckpt)
    bad = _probe(_linear_task(3), neck=neck_cfg, channels=(4, 6),
                 backbone_checkpoint=str(ckpt), prefix='teacher.backbone.')
    with pytest.raises(KeyError,
                       match=r'MLPNeck: 1 missing keys \[.layers.2.bias'):
        bad.init_weights()


def test_classification_labels_beyond_the_head_are_a_clear_error():
    """Issue 14: a head with fewer classes than the labels names the task,
    its class count, the largest label and the config key (instead of
    cross_entropy's 'Target 4 is out of bounds')."""
    tasks = dict(cls=dict(type='classification', views=(0, ),
                          target='gt_label', out_channels=4,
                          head=dict(type='MLPNeck', hidden_channels=4,
                                    num_layers=1, norm_cfg=None)))
    model = _probe(tasks, num_views=1)
    inputs = dict(views=[torch.randn(6, 3, 2, 2)], keys=None)
    with pytest.raises(ValueError, match=(
            r"classification task 'cls' has 4 classes \(labels 0\.\.3\) but "
            r'the largest label seen is 5; set model\.tasks\.cls\.'
            r'out_channels to .*at least 6')):
        model.loss(inputs, [DataSample().set_gt_label(i) for i in range(6)])
    # labels within the head: the loss as before
    assert torch.isfinite(model.loss(inputs, [
        DataSample().set_gt_label(i % 4) for i in range(6)])['loss_cls'])
