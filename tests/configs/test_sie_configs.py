"""configs/sie: every config builds; the 3DIEBench recipe equals the
README's hyper-parameter table; the toy config trains one step."""
import glob
import math
import os.path as osp
import re

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from tests.conftest import REPO

SIE_DIR = osp.join(REPO, 'configs', 'sie')
CONFIGS = sorted(glob.glob(osp.join(SIE_DIR, '*.py')))
REAL = [c for c in CONFIGS if c.endswith('_3diebench.py')]
TOY = [c for c in CONFIGS if 'toy-3diebench' in c]


def _table():
    """{item: value} of the README's hyper-parameter table."""
    rows = {}
    with open(osp.join(SIE_DIR, 'README.md'), encoding='utf-8') as f:
        for line in f:
            cells = [c.strip() for c in line.strip().strip('|').split('|')]
            if line.startswith('|') and len(cells) == 3:
                rows[cells[0]] = cells[1]
    return rows


def _build(cfg):
    init_default_scope('mmpretrain')
    torch.manual_seed(0)
    return MODELS.build(cfg.model)


def test_coverage_and_names():
    names = {osp.basename(c) for c in CONFIGS}
    assert 'sie_resnet18_8xb128-2000e_3diebench.py' in names
    assert 'sie-rot-color_resnet18_8xb128-2000e_3diebench.py' in names
    assert len(TOY) == 1
    for path in CONFIGS:
        m = re.search(r'_(\d+)xb(\d+)-(\d+)e_', osp.basename(path))
        assert m, path
        cfg = Config.fromfile(path)
        assert int(m.group(2)) == cfg.train_dataloader.batch_size, path
        assert int(m.group(3)) == cfg.train_cfg.max_epochs, path
        assert cfg.default_scope == 'mmpretrain'
        assert cfg.custom_imports == dict(imports=['mmequi'],
                                          allow_failed_imports=False)
        assert dict(type='EpochSeedHook') in cfg.custom_hooks
        assert cfg.train_dataloader.worker_init_fn == dict(
            type='epoch_worker_init_fn')
        assert cfg.train_dataloader.dataset.type == 'ThreeDIEBench'
        assert cfg.train_dataloader.dataset.mode == 'pretrain'
        pack = cfg.train_dataloader.dataset.pipeline[-1]
        assert pack.type == 'PackInputs'
        assert {'rot_quat', 'color_diff'} <= set(pack.algorithm_keys)


@pytest.mark.parametrize('path', CONFIGS,
                         ids=[osp.basename(c)[:-3] for c in CONFIGS])
def test_config_builds(path):
    cfg = Config.fromfile(path)
    model = _build(cfg)
    assert type(model).__name__ == 'SIE'
    assert model.d_inv == 256 and model.repr_dims == 512
    rot_color = 'rot-color' in osp.basename(path)
    assert model.condition == ('rot_color' if rot_color else 'rot')
    assert model.predictor.group_dims == (6 if rot_color else 4)
    assert model.data_preprocessor._channel_conversion  # BGR -> RGB


@pytest.mark.parametrize('path', REAL,
                         ids=[osp.basename(c)[:-3] for c in REAL])
def test_real_recipe_equals_readme_table(path):
    cfg = Config.fromfile(path)
    table = _table()
    gpus, per_gpu = (int(v) for v in re.findall(
        r'\d+', table['GPUs × batch per GPU']))
    m = re.search(r'_(\d+)xb(\d+)-', osp.basename(path))
    assert (int(m.group(1)), int(m.group(2))) == (gpus, per_gpu)
    assert cfg.train_dataloader.batch_size == per_gpu
    assert gpus * per_gpu == int(table['total batch size']) == 1024
    assert cfg.auto_scale_lr.base_batch_size == int(
        table['`auto_scale_lr.base_batch_size`'])
    assert cfg.train_cfg.max_epochs == int(table['epochs']) == 2000
    assert cfg.optim_wrapper.optimizer.type == 'Adam'
    assert cfg.optim_wrapper.optimizer.lr == float(
        table['learning rate']) == 1e-3
    assert cfg.optim_wrapper.optimizer.weight_decay == 0
    assert cfg.param_scheduler == []  # constant lr
    assert cfg.train_dataloader.dataset.data_root == 'data/3DIEBench'
    assert cfg.train_dataloader.dataset.num_views == 50
    m = cfg.model
    assert int(table['equivariant part'].split()[0]) == \
        m.equi_projector.in_channels == 256
    assert m.d_inv == int(table['invariant part'].split()[0]) == 256
    loss = m.loss
    for item, key in (('λ_inv', 'inv_coeff'), ('λ_equi', 'equi_coeff'),
                      ('λ_V', 'std_coeff'), ('λ_C', 'cov_coeff')):
        assert loss[key] == float(table[item]), item
    assert loss.var_on_pred is True
    for proj in (m.inv_projector, m.equi_projector):
        assert (proj.hidden_channels, proj.out_channels,
                proj.num_layers) == (1024, 1024, 3)
    assert m.predictor.embed_dims == 1024


def test_toy_config_trains_one_step():
    cfg = Config.fromfile(TOY[0])
    assert cfg.train_dataloader.dataset.data_root == 'data/toy_3diebench'
    model = _build(cfg)
    model.init_weights()
    B = 4
    rng = np.random.default_rng(0)
    samples = []
    for _ in range(B):
        ds = DataSample()
        q = rng.standard_normal(4).astype(np.float32)
        ds.set_field(q / np.linalg.norm(q), 'rot_quat')
        ds.set_field(rng.uniform(-1, 1, 2).astype(np.float32), 'color_diff')
        samples.append(ds)
    g = torch.Generator().manual_seed(0)
    data = dict(inputs=[torch.randint(0, 256, (B, 3, 64, 64), generator=g,
                                      dtype=torch.uint8) for _ in range(2)],
                data_samples=samples)
    from mmengine.optim import build_optim_wrapper
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    before = model.predictor.hypernet.layers[0].weight.detach().clone()
    log_vars = model.train_step(data, wrapper)
    assert {'loss', 'loss_inv', 'loss_equi', 'loss_var',
            'loss_cov'} <= set(log_vars)
    assert all(math.isfinite(float(torch.as_tensor(v).detach()))
               for v in log_vars.values())
    assert not torch.equal(before, model.predictor.hypernet.layers[0].weight)
