"""DINOv2's pretraining lr multipliers in SSLOptimWrapperConstructor:
every parameter of a 2-layer DINOv2 against the hand-computed multiplier,
the ratios kept through warm-up, cosine and its floor, the weight-decay
schedule and the last-layer freeze unchanged, the teacher left out."""
import copy
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import PARAM_SCHEDULERS, init_default_scope
from mmpretrain.registry import MODELS

from mmequi.engine.optimizers import SSLOptimWrapperConstructor
from tests.conftest import REPO

TINY = osp.join(REPO, 'configs', 'dinov2',
                'dinov2_vit-tiny-p16_1xb8-4e_toy-shapes-64px.py')
LR, WD, RATE, PATCH = 4e-3, 0.04, 0.9, 0.2


@pytest.fixture(scope='module')
def model():
    init_default_scope('mmpretrain')
    torch.manual_seed(0)
    return MODELS.build(Config.fromfile(TINY).model)


def hand_multiplier(name: str) -> float:
    """DINOv2's rule for L = 2 blocks, written out per name."""
    if name.startswith('backbone.patch_embed.'):
        return 0.9**3 * 0.2
    if name in ('backbone.cls_token', 'backbone.pos_embed',
                'backbone.mask_token'):
        return 0.9**3
    if name.startswith('backbone.layers.0.'):
        return 0.9**2
    if name.startswith('backbone.layers.1.'):
        return 0.9
    return 1.0  # final norm (backbone.ln1), necks / heads


def build(model, **paramwise):
    cfg = dict(type='SSLOptimWrapper',
               optimizer=dict(type='AdamW', lr=LR, weight_decay=WD))
    return SSLOptimWrapperConstructor(cfg, paramwise)(model)


def test_every_parameter_gets_the_hand_computed_lr(model):
    wrapper = build(model, layer_decay_rate=RATE, patch_embed_lr_mult=PATCH,
                    freeze={'last_layer': 1})
    where = {}
    for g in wrapper.optimizer.param_groups:
        for p in g['params']:
            assert id(p) not in where
            where[id(p)] = g
    trainable = [(n, p) for n, p in model.named_parameters()
                 if p.requires_grad]
    assert len(where) == len(trainable)  # no teacher parameter
    assert not any(id(p) in where for n, p in model.named_parameters()
                   if n.startswith('teacher'))
    seen = set()
    for name, p in trainable:
        g = where[id(p)]
        m = hand_multiplier(name)
        seen.add(round(m, 6))
        assert g['lr'] == pytest.approx(LR * m, rel=1e-12), name
        assert g['lr_scale'] == pytest.approx(m, rel=1e-12), name
        no_decay = p.ndim <= 1 or name.endswith('.bias')
        assert g['weight_decay'] == (0.0 if no_decay else WD), name
        assert g.get('freeze_epochs', 0) == (1 if 'last_layer' in name
                                             else 0), name
    assert seen == {0.1458, 0.729, 0.81, 0.9, 1.0}


def test_patch_embed_mult_alone_scales_only_the_patch_embedding(model):
    wrapper = build(model, patch_embed_lr_mult=PATCH)
    names = {id(p): n for n, p in model.named_parameters()}
    for g in wrapper.optimizer.param_groups:
        for p in g['params']:
            want = PATCH if names[id(p)].startswith(
                'backbone.patch_embed.') else 1.0
            assert g['lr'] == pytest.approx(LR * want), names[id(p)]


def test_off_means_no_lr_in_the_groups(model):
    wrapper = build(model)
    assert len(wrapper.optimizer.param_groups) == 2
    assert all('lr_scale' not in g and g['lr'] == LR
               for g in wrapper.optimizer.param_groups)


def test_bad_values_are_errors(model):
    with pytest.raises(ValueError, match='layer_decay_rate'):
        build(model, layer_decay_rate=1.5)
    with pytest.raises(ValueError, match='patch_embed_lr_mult'):
        build(model, patch_embed_lr_mult=0)
    with pytest.raises(ValueError, match='num_layers=3'):
        build(model, layer_decay_rate=RATE, num_layers=3)
    with pytest.raises(KeyError, match='patch_embed'):
        build(model, patch_embed_lr_mult=PATCH, backbone_prefix='neck.')


def test_multipliers_survive_the_dinov2_schedule(model):
    """After every scheduler step each group's lr is the single-group
    schedule times its multiplier (warm-up, cosine, floor) and the weight
    decay of decayed groups follows the base schedule, no-decay stays 0."""
    cfg = Config.fromfile(osp.join(
        REPO, 'configs', 'dinov2',
        'dinov2_vit-small-p16_64xb32-amp-coslr-100e_in1k.py'))
    wrapper = build(model, layer_decay_rate=RATE, patch_embed_lr_mult=PATCH,
                    freeze={'last_layer': 1})
    ref = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))], lr=LR,
                            weight_decay=WD)
    epoch_len = 3

    def schedulers(opt):
        return [PARAM_SCHEDULERS.build(
            s, default_args=dict(optimizer=opt, epoch_length=epoch_len))
            for s in copy.deepcopy(cfg.param_scheduler)]

    ours, base = schedulers(wrapper.optimizer), schedulers(ref)
    groups = wrapper.optimizer.param_groups
    for step in range(100 * epoch_len):
        want = ref.param_groups[0]['lr']
        for g in groups:
            assert g['lr'] == pytest.approx(want * g['lr_scale'],
                                            rel=1e-9), step
            assert g['weight_decay'] == (pytest.approx(
                ref.param_groups[0]['weight_decay'], rel=1e-9)
                if g['weight_decay'] else 0.0)
        for s in ours + base:
            s.step()
    # one step before the end: near the floor, DINOv2's min_lr times the
    # multiplier (an absolute eta_min would put every group at 1e-6)
    assert ref.param_groups[0]['lr'] == pytest.approx(1e-6, rel=0.2)
    assert min(g['lr'] for g in groups) == pytest.approx(
        1e-6 * 0.9**3 * 0.2, rel=0.2)
