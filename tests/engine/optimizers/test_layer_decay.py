"""Layer-wise lr decay: every parameter's lr and weight decay against the
hand-written rule, the same constructor found under each toolbox's scope."""
import pytest
import torch
import torch.nn as nn
from mmengine.optim import build_optim_wrapper
from mmengine.registry import DefaultScope

from mmequi.engine.optimizers import ViTLayerDecayOptimWrapperConstructor

RATE, LR, WD = 0.5, 1.0, 0.05


class Model(nn.Module):

    def __init__(self):
        super().__init__()
        from mmpretrain.models import VisionTransformer
        self.backbone = VisionTransformer(
            arch=dict(embed_dims=32, num_layers=3, num_heads=2,
                      feedforward_channels=64), img_size=32, patch_size=16)
        self.head = nn.Linear(32, 4)


def expected(name: str, param: torch.Tensor):
    """The rule written out independently: depth by name, lr, wd."""
    L = 3
    if name.startswith(('backbone.cls_token', 'backbone.pos_embed',
                        'backbone.patch_embed')):
        depth = 0
    elif name.startswith('backbone.layers.'):
        depth = int(name.split('.')[2]) + 1
    else:
        depth = L + 1
    wd = 0.0 if (param.ndim == 1 or name.endswith('bias') or
                 'pos_embed' in name or 'cls_token' in name) else WD
    return LR * RATE ** (L + 1 - depth), wd


def cfg(**paramwise):
    return dict(type='OptimWrapper',
                optimizer=dict(type='AdamW', lr=LR, weight_decay=WD),
                constructor='ViTLayerDecayOptimWrapperConstructor',
                paramwise_cfg=dict(layer_decay_rate=RATE, **paramwise))


def test_every_param_lr_and_wd():
    model = Model()
    wrapper = build_optim_wrapper(model, cfg(num_layers=3))
    got = {}
    for group in wrapper.optimizer.param_groups:
        for p in group['params']:
            got[id(p)] = (group['lr'], group['weight_decay'])
    names = dict(model.named_parameters())
    assert len(got) == len(names)
    for name, p in names.items():
        lr, wd = expected(name, p)
        assert got[id(p)] == (pytest.approx(lr), wd), name
    # spot values: patch embedding 0.5**4, block 2 0.5**1, head 1
    assert got[id(names['backbone.patch_embed.projection.weight'])][0] == \
        pytest.approx(1 / 16)
    assert got[id(names['backbone.layers.2.attn.qkv.weight'])][0] == 0.5
    assert got[id(names['head.weight'])] == (1.0, WD)


@pytest.mark.parametrize('scope', ['mmpretrain', 'mmseg', 'mmdet', 'mmpose'])
def test_found_in_every_toolbox(scope):
    with DefaultScope.overwrite_default_scope(scope):
        wrapper = build_optim_wrapper(Model(), cfg())
    lrs = sorted({g['lr'] for g in wrapper.optimizer.param_groups})
    assert lrs == pytest.approx([RATE ** k for k in (4, 3, 2, 1, 0)])


def test_depth_mismatch_and_missing_blocks_are_errors():
    with pytest.raises(ValueError, match='num_layers=12 but the backbone '
                       'has 3 blocks'):
        build_optim_wrapper(Model(), cfg(num_layers=12))
    with pytest.raises(ValueError, match='backbone.layers'):
        build_optim_wrapper(nn.Sequential(nn.Linear(2, 2)), cfg())
    with pytest.raises(KeyError, match='layer_decay_rate'):
        ViTLayerDecayOptimWrapperConstructor(
            dict(optimizer=dict(type='AdamW', lr=1.0)), {})
    with pytest.raises(KeyError, match='unknown'):
        ViTLayerDecayOptimWrapperConstructor(
            dict(optimizer=dict(type='AdamW', lr=1.0)),
            dict(layer_decay_rate=0.5, custom_keys={}))
