"""The ImageNet iBOT configs: ViT-S trains a step on the full crop set,
ViT-L builds with the right shapes, schedules hit their endpoints."""
import copy
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

S = osp.join(REPO, 'configs', 'ibot',
             'ibot_vit-small-p16_8xb128-amp-coslr-800e_in1k.py')
L = osp.join(REPO, 'configs', 'ibot',
             'ibot_vit-large-p16_32xb32-amp-coslr-250e_in1k.py')


def test_vit_small_full_crop_set_training_step():
    cfg = Config.fromfile(S)
    init_default_scope('mmpretrain')
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    assert model.backbone.embed_dims == 384
    assert model.backbone.layers[0].attn.num_heads == 6
    data = synthetic_batch(cfg, 2)
    assert [tuple(x.shape) for x in data['inputs']] == \
        [(2, 3, 224, 224)] * 2 + [(2, 3, 96, 96)] * 10
    # fp32: bf16 autocast is emulated (~20x slower) on CPUs without
    # AVX512-BF16/AMX; the bf16 path is tested in tests/compat/test_amp.py
    wrapper = build_optim_wrapper(model, full_precision(cfg.optim_wrapper))
    MessageHub.get_current_instance().update_info('epoch', 1)
    model.teacher_temp = model.teacher_patch_temp = 0.04
    before = model.backbone.layers[0].attn.qkv.weight.detach().clone()
    log_vars = model.train_step(data, wrapper)
    assert set(log_vars) >= {'loss', 'loss_cls', 'loss_patch'}
    # summed terms finite; teacher_* figures NaN only without masked tokens
    assert all(math.isfinite(float(v)) for k, v in log_vars.items()
               if 'loss' in k)
    assert math.isfinite(float(log_vars['teacher_cls_entropy']))
    assert not torch.equal(before, model.backbone.layers[0].attn.qkv.weight)


def test_vit_large_builds_with_vit_l_shapes():
    cfg = Config.fromfile(L)
    init_default_scope('mmpretrain')
    with torch.device('meta'):  # shapes only
        model = MODELS.build(cfg.model)
    bb = model.backbone
    assert (bb.embed_dims, bb.num_layers, bb.layers[0].attn.num_heads) == (
        1024, 24, 16)
    assert model.neck.mlp[0].in_features == 1024
    n = sum(p.numel() for p in bb.parameters())
    assert 300e6 < n < 310e6  # ViT-L/16: ~303M
    assert cfg.train_dataloader.batch_size * 32 == 1024
    assert cfg.train_cfg.max_epochs == 250


@pytest.mark.parametrize('path,epochs', [(S, 800), (L, 250)])
def test_schedules_hit_their_endpoints(path, epochs):
    cfg = Config.fromfile(path)
    epoch_len = 4
    params = [torch.nn.Parameter(torch.zeros(1)) for _ in range(2)]
    opt = torch.optim.AdamW([
        dict(params=[params[0]], weight_decay=cfg.optim_wrapper.optimizer[
            'weight_decay']),
        dict(params=[params[1]], weight_decay=0.0)],
        lr=cfg.optim_wrapper.optimizer['lr'])
    scheds = [PARAM_SCHEDULERS.build(
        s, default_args=dict(optimizer=opt, epoch_length=epoch_len))
        for s in copy.deepcopy(cfg.param_scheduler)]
    lrs, wds = [], []
    for _ in range(epochs * epoch_len):
        lrs.append(opt.param_groups[0]['lr'])
        wds.append([g['weight_decay'] for g in opt.param_groups])
        opt.step()
        for s in scheds:
            s.step()
    warm = 10 * epoch_len
    assert lrs[0] < 1e-10
    assert lrs[warm] == pytest.approx(2e-3)
    assert max(lrs) == pytest.approx(2e-3)
    assert lrs[-1] == pytest.approx(1e-6, abs=2e-7)
    assert wds[0][0] == pytest.approx(0.04)
    assert wds[-1][0] == pytest.approx(0.4, abs=1e-5)
    assert all(w[1] == 0.0 for w in wds)
