"""configs/sie: every config builds; the 3DIEBench recipe equals the
README's hyper-parameter table; the toy config trains one step; the ViT-S
SIE(θ) configs of the paper's Table 1 build with the right shapes and
differ from VICReg + ours in the method only; their tiny config steps."""
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
#: the ResNet-18 3DIEBench configs (the ViT ones: the end of this file)
CONFIGS = sorted(glob.glob(osp.join(SIE_DIR, '*3diebench*.py')))
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
    _assert_finite_step(model, cfg, samples)


def _assert_finite_step(model, cfg, samples, size=64):
    """One train_step of ``cfg``'s optimiser on two random uint8 views of
    ``size`` px: every SIE term finite, the predictor updated."""
    from mmengine.optim import build_optim_wrapper
    g = torch.Generator().manual_seed(0)
    n = len(samples)
    data = dict(inputs=[torch.randint(0, 256, (n, 3, size, size),
                                      generator=g, dtype=torch.uint8)
                        for _ in range(2)],
                data_samples=samples)
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    before = model.predictor.hypernet.layers[0].weight.detach().clone()
    log_vars = model.train_step(data, wrapper)
    assert {'loss', 'loss_inv', 'loss_equi', 'loss_var',
            'loss_cov'} <= set(log_vars)
    assert all(math.isfinite(float(torch.as_tensor(v).detach()))
               for v in log_vars.values())
    assert not torch.equal(before, model.predictor.hypernet.layers[0].weight)


# ------------------------------------------ SIE(θ) ViT configs (Table 1)
VIT_S = {task: osp.join(
    SIE_DIR, f'sie_vit-small-p16_16xb128-amp-coslr-800e_in1k_{task}.py')
    for task in ('rot', 'color', 'blur', 'trans', 'all')}
VIT_TINY = osp.join(SIE_DIR, 'sie_vit-tiny-p16_1xb8-4e_toy-shapes-64px_all.py')
OURS_VIT_S = osp.join(
    REPO, 'configs', 'equi_recon',
    'vicreg-equi_vit-small-p16_16xb128-amp-coslr-800e_in1k_all-{}.py')
#: θ dims and transform of each task (the paper's Table 2 ranges)
TASKS = {'rot': (1, 'rotation'), 'color': (4, 'color'), 'blur': (1, 'blur'),
         'trans': (2, 'translation'), 'all': (8, 'compose')}


def test_vit_configs_exist():
    vit = {c for c in glob.glob(osp.join(SIE_DIR, '*.py'))
           if 'vit' in osp.basename(c)}
    assert vit == set(VIT_S.values()) | {VIT_TINY}


@pytest.mark.parametrize('task', sorted(VIT_S))
def test_vit_s_config_builds_with_the_right_shapes(task):
    cfg = Config.fromfile(VIT_S[task])
    model = _build(cfg)
    dim, kind = TASKS[task]
    assert model.condition == 'theta' and model.predictor.group_dims == dim
    pre = model.data_preprocessor
    assert pre.param_transform.name == kind and pre.param_transform.dim == dim
    assert pre.num_intermediate == 0 and pre.view_index == 1
    assert model.backbone.embed_dims == 384 and model.backbone.num_layers == 12
    assert model.backbone.out_type == 'cls_token' and not model.with_neck
    assert model.projector.layers[0].in_features == 384
    assert model.repr_dims == 512 and model.d_inv == 256
    assert model.inv_projector.out_channels == 2048
    assert model.predictor.embed_dims == model.equi_projector.out_channels
    if task == 'all':
        assert [t.name for t in pre.param_transform.transforms] == [
            'rotation', 'color', 'blur', 'translation']
        np.testing.assert_array_equal(
            pre.param_transform.high, [45, 0.4, 0.4, 0.4, 0.1, 2, 10, 10])
    if task == 'rot':  # one forward at 224 px
        model.eval()
        with torch.no_grad():
            y = model.extract_feat(torch.randn(2, 3, 224, 224))
        assert y.shape == (2, 512)


def test_vit_s_recipe_is_vicreg_ours_but_the_method():
    """SIE(rot) vs Ours(VICReg, all, rot): same loader, optimiser, schedule,
    backbone, projector, invariant branch and g_θ; the rest is the method."""
    from tests.tools.test_print_config_diff import pcd
    sie = Config.fromfile(VIT_S['rot']).to_dict()
    ours = Config.fromfile(OURS_VIT_S.format('rot')).to_dict()
    for key in ('train_dataloader', 'optim_wrapper', 'param_scheduler',
                'train_cfg', 'auto_scale_lr', 'default_hooks', 'env_cfg',
                'randomness', 'visualizer'):
        assert sie[key] == ours[key], key
    m, o = sie['model'], ours['model']
    assert pcd.key_diffs(o['data_preprocessor'], m['data_preprocessor']) == [
        '.num_intermediate: 2 -> 0']
    assert pcd.key_diffs(o['backbone'], m['backbone']) == [
        '.out_type: added "cls_token"']
    assert m['projector'] == o['projector']
    assert m['inv_projector'] == dict(o['expander'], in_channels=256)
    assert m['loss']['std_coeff'] == o['loss']['std_coeff']
    assert m['loss']['cov_coeff'] == o['loss']['cov_coeff']
    assert m['loss']['inv_coeff'] == o['loss']['sim_coeff']
    # the other tasks: the same g_θ as the "+ ours" config of that target
    for task in ('color', 'blur', 'trans'):
        ours = Config.fromfile(OURS_VIT_S.format(task)).model
        assert Config.fromfile(VIT_S[task]).model.data_preprocessor == dict(
            ours.data_preprocessor, num_intermediate=0), task


def test_vit_tiny_config_takes_a_finite_step():
    cfg = Config.fromfile(VIT_TINY)
    model = _build(cfg)
    model.init_weights()
    assert model.predictor.group_dims == 8
    _assert_finite_step(model, cfg, [DataSample() for _ in range(4)])
