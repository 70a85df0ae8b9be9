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
                     'ibot_vit-tiny-p16_1xb64-5e_toy-3diebench-64px.py')
DEMO_OURS = osp.join(
    REPO, 'configs', 'equi_recon',
    'ibot-equi_vit-tiny-p16_1xb64-5e_toy-3diebench-64px_all-rot.py')


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


def test_demo_pretrainings_differ_only_by_the_method():
    ibot, ours = Config.fromfile(DEMO_IBOT), Config.fromfile(DEMO_OURS)
    assert ours.model.type == 'iBOTEquiRecon' and ibot.model.type == 'iBOT'
    for key in ('train_dataloader', 'optim_wrapper', 'param_scheduler',
                'train_cfg', 'randomness'):
        assert ibot[key] == ours[key], key
    assert ibot.model.backbone == ours.model.backbone
    ds = ibot.train_dataloader.dataset
    assert ds.type == 'ThreeDIEBench' and ds.mode == 'pretrain'
    assert ibot.train_dataloader.dataset.pipeline[0].type == 'LoadViews'
    hooks = [h for h in ours.custom_hooks
             if h.type != 'ReconVisualizationHook']
    assert hooks == ibot.custom_hooks
    d = ours.model.d_equi
    assert ours.model.loss.out_dim == ibot.model.loss.out_dim - d
