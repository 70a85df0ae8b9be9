"""The DINOv2 configs: ViT-S trains a step on the full crop set (2 global
224 px + 8 local 96 px), the tiny one on toy shapes; ViT-L builds with the
right shapes; each DINOv2 / DINOv2 + ours pair differs only in the method;
the schedule hits [P]'s and DINOv2's numbers."""
import copy
import glob
import math
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.logging import MessageHub
from mmengine.optim import build_optim_wrapper
from mmengine.registry import PARAM_SCHEDULERS, init_default_scope
from mmpretrain.registry import MODELS

from mmequi.utils import full_precision, synthetic_batch
from tests.conftest import REPO

D = osp.join(REPO, 'configs', 'dinov2')
E = osp.join(REPO, 'configs', 'equi_recon')
LARGE = osp.join(D, 'dinov2_vit-large-p16_64xb32-amp-coslr-100e_in1k.py')
SMALL = osp.join(D, 'dinov2_vit-small-p16_64xb32-amp-coslr-100e_in1k.py')
TINY = osp.join(D, 'dinov2_vit-tiny-p16_1xb8-4e_toy-shapes-64px.py')
PAIRS = [
    (LARGE, osp.join(E, 'dinov2-equi_vit-large-p16_64xb32-amp-coslr-100e_'
                        'in1k_all-rot.py')),
    (SMALL, osp.join(E, 'dinov2-equi_vit-small-p16_64xb32-amp-coslr-100e_'
                        'in1k_all-rot.py')),
    (TINY, osp.join(E, 'dinov2-equi_vit-tiny-p16_1xb8-4e_toy-shapes-64px_'
                       'all-rot.py')),
]


def test_every_dinov2_config_is_listed_and_named():
    configs = sorted(glob.glob(osp.join(D, '*.py')))
    assert configs == sorted([LARGE, SMALL, TINY])
    readme = open(osp.join(D, 'README.md')).read()
    for path in configs + [p[1] for p in PAIRS]:
        assert osp.basename(path) in readme, path


@pytest.mark.parametrize('path', [SMALL, TINY], ids=['vit-s', 'tiny'])
def test_training_step_on_the_full_crop_set(path):
    cfg = Config.fromfile(path)
    init_default_scope('mmpretrain')
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    data = synthetic_batch(cfg, 2)
    size, local = (224, 96) if path == SMALL else (64, 32)
    num_local = cfg.model.loss.num_local
    assert num_local == (8 if path == SMALL else 2)
    assert [tuple(x.shape) for x in data['inputs']] == \
        [(2, 3, size, size)] * 2 + [(2, 3, local, local)] * num_local
    # fp32: bf16 autocast is emulated on CPUs without AVX512-BF16/AMX
    wrapper = build_optim_wrapper(model, full_precision(cfg.optim_wrapper))
    MessageHub.get_current_instance().update_info('epoch', 1)
    model.teacher_temp = model.teacher_patch_temp = 0.04
    before = model.backbone.layers[0].attn.qkv.weight.detach().clone()
    log_vars = model.train_step(data, wrapper)
    assert set(log_vars) >= {'loss', 'loss_cls', 'loss_patch', 'loss_koleo'}
    assert all(math.isfinite(float(v)) for k, v in log_vars.items()
               if 'loss' in k)
    assert not torch.equal(before, model.backbone.layers[0].attn.qkv.weight)


def test_vit_large_builds_with_vit_l_shapes():
    cfg = Config.fromfile(LARGE)
    init_default_scope('mmpretrain')
    with torch.device('meta'):
        model = MODELS.build(cfg.model)
    bb = model.backbone
    assert (bb.embed_dims, bb.num_layers, bb.layers[0].attn.num_heads) == (
        1024, 24, 16)
    assert bb.num_register_tokens == 0
    assert model.neck.mlp[0].in_features == 1024
    assert model.neck.last_layer.weight_v.shape == (2048, 256)
    assert (model.ibot_loss.out_dim, model.ibot_loss.num_local,
            model.ibot_loss.centering, model.ibot_loss.koleo_weight) == (
                2048, 8, 'sinkhorn_knopp', 0.1)
    n = sum(p.numel() for p in bb.parameters())
    assert 300e6 < n < 310e6  # ViT-L/16 (~303M) + layer-scale gammas
    assert cfg.train_dataloader.batch_size * 64 == 2048


def test_vit_large_equi_builds_with_the_paper_split():
    cfg = Config.fromfile(PAIRS[0][1])
    init_default_scope('mmpretrain')
    with torch.device('meta'):
        model = MODELS.build(cfg.model)
    assert type(model).__name__ == 'DINOv2EquiRecon'
    assert model.head.d_equi == 512  # of the 2048-d head ([P])
    assert model.k_cls_inv == model.k_patch_inv == 2048 - 512
    assert model.ibot_loss.out_dim == 2048 - 512
    assert model.head.decoders[0].linear.in_features == 2 * 512


def _flat(cfg, prefix=''):
    out = {}
    for k, v in cfg.items():
        if isinstance(v, dict):
            out.update(_flat(v, f'{prefix}{k}.'))
        else:
            out[f'{prefix}{k}'] = v
    return out


@pytest.mark.parametrize('base,equi', PAIRS,
                         ids=['vit-l', 'vit-s', 'tiny'])
def test_pairs_differ_only_in_the_method(base, equi):
    a = _flat(Config.fromfile(base).to_dict())
    b = _flat(Config.fromfile(equi).to_dict())
    differ = {k for k in set(a) | set(b) if a.get(k) != b.get(k)}
    allowed = ('model.type', 'model.data_preprocessor.', 'model.head.',
               'model.loss.out_dim', 'model.loss.patch_out_dim',
               'custom_hooks', 'd_equi', 'num_intermediate')
    assert all(k.startswith(allowed) for k in differ), sorted(differ)
    # the head widths are the same: the pair differs only in d_equi
    assert a['model.neck.out_channels'] == b['model.neck.out_channels']


def test_schedule_hits_the_paper_and_dinov2_numbers():
    cfg = Config.fromfile(LARGE)
    assert cfg.train_cfg.max_epochs == 100
    assert cfg.optim_wrapper.optimizer['lr'] == 4e-3
    hook = next(h for h in cfg.custom_hooks
                if h['type'] == 'DistillationTeacherHook')
    assert (hook['momentum'], hook['end_momentum'], hook['warmup_epochs'],
            hook['warmup_teacher_temp'], hook['teacher_temp']) == (
                0.992, 1.0, 30, 0.04, 0.07)
    epochs, epoch_len = 100, 2
    params = [torch.nn.Parameter(torch.zeros(1)) for _ in range(2)]
    opt = torch.optim.AdamW([
        dict(params=[params[0]], weight_decay=0.04),
        dict(params=[params[1]], weight_decay=0.0)], lr=4e-3)
    scheds = [PARAM_SCHEDULERS.build(
        s, default_args=dict(optimizer=opt, epoch_length=epoch_len))
        for s in copy.deepcopy(cfg.param_scheduler)]
    lrs, wds = [], []
    for _ in range(epochs * epoch_len):
        lrs.append(opt.param_groups[0]['lr'])
        wds.append(opt.param_groups[0]['weight_decay'])
        opt.step()
        for s in scheds:
            s.step()
    warm = 10 * epoch_len  # 10 warm-up epochs
    assert lrs[0] < 1e-10
    assert lrs[warm] == pytest.approx(4e-3)
    assert max(lrs) == pytest.approx(4e-3)
    assert lrs[-1] == pytest.approx(1e-6, abs=2e-6)
    assert wds[0] == pytest.approx(0.04)
    assert wds[-1] == pytest.approx(0.4, abs=1e-4)
    assert opt.param_groups[1]['weight_decay'] == 0.0


@pytest.mark.parametrize('path', [p for pair in PAIRS for p in pair],
                         ids=lambda p: osp.basename(p)[:-3])
def test_dinov2_recipe_fidelity(path):
    """DINOv2's lr multipliers, batch masks and uniform drop path in every
    DINOv2 config (tiny ones: the toy schedule plus the multipliers)."""
    cfg = Config.fromfile(path)
    pw = cfg.optim_wrapper.paramwise_cfg
    assert (pw['layer_decay_rate'], pw['patch_embed_lr_mult']) == (0.9, 0.2)
    steps = [t['type'] for t in cfg.train_dataloader.dataset.pipeline]
    assert 'iBOTBlockMaskGenerator' not in steps
    collate = cfg.train_dataloader.collate_fn
    assert collate['type'] == 'dinov2_mask_collate'
    assert (collate['mask_probability'], tuple(collate['mask_ratio']),
            collate['patch_size']) == (0.5, (0.1, 0.5),
                                       cfg.model.backbone.patch_size)
    assert cfg.model.backbone.drop_path_uniform is True
    if 'in1k' in path:
        cos = next(s for s in cfg.param_scheduler
                   if s['type'] == 'CosineAnnealingLR')
        assert 'eta_min' not in cos
        assert cos['eta_min_ratio'] * 4e-3 == pytest.approx(1e-6)


def test_ibot_configs_keep_their_masks_and_groups():
    cfg = Config.fromfile(osp.join(REPO, 'configs', '_base_', 'datasets',
                                   'imagenet_bs128_ibot.py'))
    steps = [t['type'] for t in cfg.train_dataloader.dataset.pipeline]
    assert 'iBOTBlockMaskGenerator' in steps
    assert cfg.train_dataloader.collate_fn == dict(type='default_collate')
    sched = Config.fromfile(osp.join(
        REPO, 'configs', '_base_', 'schedules',
        'imagenet_bs1024_adamw-coslr-800e_ibot.py'))
    assert not {'layer_decay_rate', 'patch_embed_lr_mult'} & set(
        sched.optim_wrapper.get('paramwise_cfg', {}))
