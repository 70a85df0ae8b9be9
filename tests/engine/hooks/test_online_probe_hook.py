"""OnlineProbeHook (its heads: tests/evaluation/functional/): the hook on
a model whose features separate the classes, and the tiny iBOT trained
with and without the hook: bit-identical weights, optimiser state and
random state, the results in the log, the visualiser's scalars.json and
the message hub (and without the RNG restore the run differs, so the
comparison can fail)."""
import copy
import json
import math
import os
import os.path as osp
import random
import uuid

import cv2
import numpy as np
import pytest
import torch
import torch.nn as nn

from mmequi.engine.hooks.online_probe_hook import (OnlineProbeHook,
                                                   evenly_spaced,
                                                   preserved_rng)
from tests.conftest import REPO

IBOT_TOY = osp.join(REPO, 'configs', 'ibot',
                    'ibot_vit-tiny-p16_1xb8-4e_toy-shapes-64px.py')
KEYS = ('online_probe/linear_top1', 'online_probe/linear_top5',
        'online_probe/knn_top1', 'online_probe/knn_top5',
        'online_probe/r2_crop_rot')


def test_evenly_spaced_and_preserved_rng():
    assert evenly_spaced(10, None) is None and evenly_spaced(10, 20) is None
    assert evenly_spaced(10, 3) == [0, 4, 9]
    before = (random.getstate(), np.random.get_state()[1].copy(),
              torch.get_rng_state())
    with preserved_rng():
        random.random(), np.random.rand(), torch.rand(3)
    assert random.getstate() == before[0]
    assert np.array_equal(np.random.get_state()[1], before[1])
    assert torch.equal(torch.get_rng_state(), before[2])


def _colour_set(root, per_class, seed):
    """ImageNet layout; class c = a noisy image of colour c (BGR files)."""
    colours = [(0, 0, 255), (0, 255, 0), (255, 0, 0), (0, 255, 255)]
    rng = np.random.default_rng(seed)
    for c, colour in enumerate(colours):
        os.makedirs(osp.join(root, f'class{c}'))
        for i in range(per_class):
            img = np.clip(np.array(colour, np.float64) * 0.7 + 40 +
                          rng.normal(0, 20, (32, 32, 3)), 0, 255)
            cv2.imwrite(osp.join(root, f'class{c}', f'{i}.png'),
                        img.astype(np.uint8))


class _MeanColour(nn.Module):
    """'backbone': (B, 3, H, W) -> per-channel means (B, 3)."""

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(1))

    def forward(self, x):
        return (x.mean(dim=(2, 3)) * self.scale, )


def _loader(root, prefix, batch_size=4):
    return dict(batch_size=batch_size, num_workers=0,
                sampler=dict(type='DefaultSampler', shuffle=False),
                collate_fn=dict(type='default_collate'),
                dataset=dict(type='CustomDataset', data_root=root,
                             data_prefix=prefix,
                             pipeline=[dict(type='LoadImageFromFile'),
                                       dict(type='PackInputs')]))


def test_hook_probe_separable_features(tmp_path):
    from mmengine.logging import MessageHub, MMLogger
    from mmengine.runner import Runner
    from mmengine.visualization import Visualizer
    root = str(tmp_path / 'colours')
    _colour_set(osp.join(root, 'train'), 12, 0)
    _colour_set(osp.join(root, 'val'), 5, 1)
    name = f'probe_{uuid.uuid4().hex[:8]}'

    class _Runner:  # what the hook uses of a Runner
        model = nn.Module()
        build_dataloader = staticmethod(Runner.build_dataloader)
        seed, epoch, iter = 0, 3, 40
        message_hub = MessageHub.get_instance(name)
        logger = MMLogger.get_instance(name)
        visualizer = Visualizer.get_instance(
            name, vis_backends=[dict(type='LocalVisBackend')],
            save_dir=str(tmp_path / 'vis'))

    runner = _Runner()
    runner.model.backbone = _MeanColour()
    runner.model.train()
    hook = OnlineProbeHook(_loader(root, 'train'), _loader(root, 'val'),
                           num_train_samples=40, linear=dict(epochs=50,
                                                             batch_size=8),
                           knn=dict(k=5))
    res = hook.probe(runner, step=40)
    assert set(res) == set(KEYS)
    assert res['online_probe/linear_top1'] == 100.0
    assert res['online_probe/knn_top1'] == 100.0
    # colour means say nothing about a rotation of a uniform-ish image
    assert res['online_probe/r2_crop_rot'] < 0.5
    assert len(hook._loaders['train'].dataset) == 40  # evenly spaced subset
    assert runner.model.training and runner.model.backbone.training
    assert runner.message_hub.get_scalar(
        'online_probe/knn_top1').current() == 100.0
    lines = [json.loads(x) for x in open(
        glob_one(str(tmp_path / 'vis'), 'scalars.json'))]
    assert lines[-1]['step'] == 40 and 'online_probe/linear_top1' in \
        lines[-1]


class _HalfMeans(nn.Module):
    """'backbone': mean of the top and of the bottom half (B, 2)."""

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(1))

    def forward(self, x):
        h = x.shape[2] // 2
        return torch.stack([x[:, :, :h].mean((1, 2, 3)),
                            x[:, :, h:].mean((1, 2, 3))], 1) * self.scale


def test_hook_rotation_r2_pairs_theta_with_the_right_rows(tmp_path):
    """Images bright on the left, dark on the right: rotating by φ moves
    brightness between the top and bottom halves (~ sin φ), so θ is
    linearly decodable from [f(I); f(g_θ(I))] -- if θ and rows match."""
    from mmengine.logging import MessageHub, MMLogger
    from mmengine.runner import Runner
    from mmengine.visualization import Visualizer
    rng = np.random.default_rng(0)
    root = str(tmp_path / 'halves')
    for split, n in (('train', 60), ('val', 30)):
        os.makedirs(osp.join(root, split, 'only'))
        for i in range(n):
            img = np.zeros((32, 32, 3), np.uint8)
            img[:, :16] = rng.integers(150, 255)
            cv2.imwrite(osp.join(root, split, 'only', f'{i}.png'), img)
    name = f'probe_{uuid.uuid4().hex[:8]}'

    class _Runner:
        model = nn.Module()
        build_dataloader = staticmethod(Runner.build_dataloader)
        seed, epoch, iter = 0, 0, 1
        message_hub = MessageHub.get_instance(name)
        logger = MMLogger.get_instance(name)
        visualizer = Visualizer.get_instance(name)

    runner = _Runner()
    runner.model.backbone = _HalfMeans()
    hook = OnlineProbeHook(_loader(root, 'train', 8), _loader(root, 'val', 8),
                           linear=None, knn=None,
                           equivariance=dict(transforms=dict(
                               rot=dict(type='rotation', max_angle=45.0)),
                               alpha=1e-3))
    res = hook.probe(runner, step=1)
    assert set(res) == {'online_probe/r2_crop_rot'}
    # (targets of other rows, e.g. a wrong order after the gather, would
    # give R² around 0)
    assert res['online_probe/r2_crop_rot'] > 0.9


def test_hook_views_are_normalised_like_its_preprocessor():
    """The transformed views use the preprocessor config's statistics in
    mmpretrain's 0..255 convention, (x01 * 255 - mean) / std (as before),
    so an identity view equals the preprocessor's own output."""
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import MODELS
    init_default_scope('mmpretrain')
    mean, std = [10.0, 20.0, 30.0], [40.0, 50.0, 60.0]
    cfg = dict(type='ClsDataPreprocessor', mean=mean, std=std, to_rgb=True)
    loader = dict(dataset=dict(type='CustomDataset'))
    hook = OnlineProbeHook(loader, loader, linear=None, knn=dict(k=1),
                           data_preprocessor=cfg)
    u8 = torch.randint(0, 256, (2, 3, 5, 5), dtype=torch.uint8,
                       generator=torch.Generator().manual_seed(0))
    x = MODELS.build(cfg)(dict(inputs=u8, data_samples=None))['inputs']
    m, s = torch.tensor(mean).view(3, 1, 1), torch.tensor(std).view(3, 1, 1)
    x01 = hook._pixels.denormalize(x)
    assert torch.equal(x01, (x * s + m) / 255.0)
    assert torch.equal(hook._pixels.normalize(x01), (x01 * 255.0 - m) / s)
    torch.testing.assert_close(hook._pixels.normalize(x01), x, atol=1e-5,
                               rtol=0)
    torch.testing.assert_close(x01, u8.flip(1).float() / 255, atol=1e-6,
                               rtol=0)
    off = OnlineProbeHook(loader, loader, linear=None, knn=dict(k=1),
                          data_preprocessor=dict(type='ClsDataPreprocessor'))
    assert torch.equal(off._pixels.denormalize(x), x / 255.0)


def glob_one(folder, name):
    for base, _, files in os.walk(folder):
        if name in files:
            return osp.join(base, name)
    raise FileNotFoundError(f'{name} under {folder}')


# ------------------------------------------------- tiny iBOT, in process
def _train(root, work_dir, hook_cfg=None, restore_rng=True):
    from mmengine.config import Config
    from mmengine.runner import Runner
    cfg = Config.fromfile(IBOT_TOY)
    cfg.train_dataloader.dataset.data_root = root
    cfg.train_cfg.max_epochs = 1  # 16 images / batch 8 = 2 iterations
    cfg.randomness = dict(seed=0, deterministic=True)
    cfg.work_dir = work_dir
    cfg.experiment_name = f'probe_{uuid.uuid4().hex[:8]}'
    if hook_cfg is not None:
        cfg.custom_hooks.append(hook_cfg)
    runner = Runner.from_cfg(cfg)
    for h in runner.hooks:
        if isinstance(h, OnlineProbeHook):
            h._restore_rng = restore_rng
    runner.train()
    return dict(state={k: v.detach().clone()
                       for k, v in runner.model.state_dict().items()},
                optim=copy.deepcopy(runner.optim_wrapper.state_dict()),
                rng=torch.get_rng_state(), np_rng=np.random.get_state()[1],
                runner=runner)


def _same(a, b):
    if set(a['state']) != set(b['state']):
        return False
    if not all(torch.equal(a['state'][k], b['state'][k]) for k in a['state']):
        return False
    sa, sb = a['optim']['state'], b['optim']['state']
    return sa.keys() == sb.keys() and all(
        torch.equal(sa[i][n], sb[i][n]) for i in sa for n in sa[i]
        if torch.is_tensor(sa[i][n]))


@pytest.mark.slow
def test_ibot_trains_bit_identically_with_the_hook(toy_shapes_64, tmp_path):
    root = toy_shapes_64
    hook = dict(type='OnlineProbeHook', interval=1, by_epoch=False,
                train_dataloader=_loader(root, 'train'),
                val_dataloader=_loader(root, 'val'),
                linear=dict(epochs=10, batch_size=8))
    base = _train(root, str(tmp_path / 'base'))
    probed = _train(root, str(tmp_path / 'probed'), hook)
    assert _same(base, probed)
    assert torch.equal(base['rng'], probed['rng'])
    assert np.array_equal(base['np_rng'], probed['np_rng'])
    # the probe does consume random numbers: without the restore the
    # training run diverges (so the comparison above can fail)
    unguarded = _train(root, str(tmp_path / 'unguarded'), hook,
                       restore_rng=False)
    assert not _same(base, unguarded)

    runner = probed['runner']
    log = open(osp.join(runner.log_dir, f'{runner.timestamp}.log')).read()
    assert log.count('Online probe (iter ') == 2
    hook_obj = next(h for h in runner.hooks if isinstance(h, OnlineProbeHook))
    for key in KEYS:
        assert key in log
        value = runner.message_hub.get_scalar(key).current()
        assert math.isfinite(value)
        if 'top' in key:
            assert 0.0 <= value <= 100.0
        assert hook_obj.last_results[key] == value
    scalars = [json.loads(x) for x in open(
        glob_one(str(tmp_path / 'probed'), 'scalars.json'))]
    probe_steps = [s['step'] for s in scalars if KEYS[0] in s]
    assert probe_steps == [1, 2]
    # the teacher was probed (the model has one), in eval mode, and the
    # model is back in training mode
    assert runner.model.training and runner.model.backbone.training
