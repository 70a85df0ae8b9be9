"""The equivariance-benchmark configs: protocol values, and the demo's
probes and pretrainings agreeing with each other."""
import glob
import os.path as osp

import pytest
from mmengine.config import Config

from tests.conftest import REPO

EQ = osp.join(REPO, 'configs', 'benchmarks', 'equivariance')
PROBES = sorted(glob.glob(osp.join(EQ, '*.py')))
DEMO_IBOT = osp.join(REPO, 'configs', 'ibot',
                     'ibot_vit-tiny-p16_1xb64-6e_toy-3diebench-64px.py')
DEMO_OURS = osp.join(
    REPO, 'configs', 'equi_recon',
    'ibot-equi_vit-tiny-p16_1xb64-6e_toy-3diebench-64px_all-rot.py')
DEMO_CTRL = DEMO_OURS.replace('ibot-equi_', 'ibot-equi-ctrl_')


def _cfg(name):
    return Config.fromfile(osp.join(EQ, name))


@pytest.mark.parametrize('path', PROBES, ids=[osp.basename(p)
                                              for p in PROBES])
def test_evaluator_scores_every_regression_task(path):
    cfg = Config.fromfile(path)
    tasks = cfg.model.tasks
    regression = sorted(k for k, t in tasks.items()
                        if t.get('type', 'regression') == 'regression')
    ev = cfg.test_evaluator
    if regression:
        assert ev.type == 'EquivarianceR2'
        assert sorted(ev.tasks) == regression
    else:
        assert ev.type == 'Accuracy'
    assert cfg.model.cache_features
    # evaluation data is deterministic (a cached feature is valid)
    test_ds = cfg.test_dataloader.dataset
    assert test_ds.get('mode') in (None, 'pair', 'single')
    assert not cfg.test_dataloader.sampler.shuffle


def test_sie_probe_protocol_values():
    cfg = _cfg('probe-3diebench_vit-small-p16_1xb256-300e_3diebench.py')
    assert cfg.optim_wrapper.optimizer == dict(type='Adam', lr=1e-3)
    assert cfg.param_scheduler == []
    assert cfg.train_cfg.max_epochs == 300
    assert cfg.train_dataloader.batch_size == 256
    for task, out in (('rot_quat', 4), ('color_diff', 2)):
        t = cfg.model.tasks[task]
        assert t.views == (0, 1) and t.out_channels == out
        assert t.head.hidden_channels == 1024 and t.head.num_layers == 3
        assert t.head.norm_cfg is None and t.head.act == 'ReLU'
    assert cfg.train_dataloader.dataset.mode == 'pretrain'  # random pairs
    assert cfg.test_dataloader.dataset.split == 'val'
    assert not cfg.model.get('input_norm', False)  # SIE: raw features
    syn = _cfg('probe-synthetic_vit-small-p16_1xb256-50e_in1k.py')
    tr = syn.model.data_preprocessor.transforms
    assert tr.rot.max_angle == 45.0 and tr.trans.max_shift == 10.0
    assert tr.blur.sigma == (0.1, 2.0) and tr.color.hue == 0.1
    assert syn.model.num_views == 5


def _backbone(cfg):
    b = dict(cfg.model.backbone)
    b.pop('drop_path_rate', None)
    return b


def test_demo_probes_use_the_demo_backbone():
    pre = Config.fromfile(DEMO_IBOT)
    for path in glob.glob(osp.join(EQ, '*toy-3diebench*.py')):
        cfg = Config.fromfile(path)
        assert _backbone(cfg) == _backbone(pre), path
        assert cfg.model.dummy_size == pre.model.backbone.img_size
        assert cfg.model.input_norm
        train = cfg.train_dataloader.dataset
        assert train.type == 'CachedDataset'
        assert train.dataset.mode in ('pair', 'single')
        assert cfg.train_dataloader.num_workers == 0


def test_demo_arms_differ_only_by_the_reconstruction():
    """The control arm is the method's config with d_equi = 0: same views,
    same g_θ, same iBOT prototypes (the method's z_inv); the plain iBOT
    config shares data, schedule and hooks."""
    ctrl, ours = Config.fromfile(DEMO_CTRL), Config.fromfile(DEMO_OURS)
    ibot = Config.fromfile(DEMO_IBOT)
    assert ours.model.type == ctrl.model.type == 'iBOTEquiRecon'
    assert ctrl.model.head.d_equi == 0 and ours.model.head.d_equi == 64
    for key in ('train_dataloader', 'optim_wrapper', 'param_scheduler',
                'train_cfg', 'randomness', 'default_hooks'):
        assert ibot[key] == ours[key] == ctrl[key], key
    m_ctrl, m_ours = ctrl.model.to_dict(), ours.model.to_dict()
    m_ours['head']['d_equi'] = 0
    m_ours['neck']['out_channels'] -= ours.model.head.d_equi
    assert m_ctrl == m_ours
    # the iBOT loss sizes are derived: the control's neck = ours' z_inv
    assert ours.model.loss.out_dim is None
    assert ctrl.model.neck.out_channels == 256 - 64 == 192
    hooks = [h for h in ours.custom_hooks
             if h.type != 'ReconVisualizationHook']
    assert hooks == ctrl.custom_hooks == ibot.custom_hooks
    assert [h.type for h in hooks] == ['EpochSeedHook',
                                       'DistillationTeacherHook',
                                       'CollapseMonitorHook']
    ds = ibot.train_dataloader.dataset
    assert ds.type == 'ThreeDIEBench' and ds.mode == 'single'  # one render
    assert ds.pipeline[0].type == 'LoadImageFromFile'


def test_leak_free_probe_configs():
    """The 'crop' configs: protocol recorded and checked by the metric, the
    window leak-free for their image sizes and ranges."""
    from mmequi.param_transforms import (build_param_transform,
                                                      leak_free_window)
    toy = _cfg('probe-synthetic-crop_vit-tiny-p16_1xb128-30e_'
               'toy-3diebench-64px.py')
    pre = toy.model.data_preprocessor
    assert pre.protocol == 'crop' and toy.test_evaluator.protocol == 'crop'
    assert sorted(toy.model.tasks) == ['rot', 'trans']
    extents = [build_param_transform(t).max_extent()
               for t in pre.transforms.values()]
    assert leak_free_window(64, 64, extents) == 43
    big = _cfg('probe-synthetic-crop_vit-small-p16_1xb256-50e_in1k.py')
    pre = big.model.data_preprocessor
    assert (pre.protocol, pre.crop_size, pre.out_size) == ('crop', 224, 224)
    assert big.test_dataloader.dataset.pipeline[2].crop_size == 320
    extents = [build_param_transform(t).max_extent()
               for t in pre.transforms.values()]
    assert leak_free_window(320, 224, extents) >= 224
