"""VICReg/SIE-style base + reconstruction."""
import pytest
import torch
from mmengine.registry import init_default_scope
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from mmequi.models.losses import VICRegLoss

B = 4
EMBED = 16  # the token embedding of the tiny two-view models


def tiny_vit() -> dict:
    """A fresh config of the tiny ViT of the two-view model tests
    (VICReg, SimCLR and CrossAttnRecon): 32-d, 2 layers, 32 px, 8-px
    patches."""
    return dict(type='VisionTransformer',
                arch=dict(embed_dims=32, num_layers=2, num_heads=2,
                          feedforward_channels=64),
                img_size=32, patch_size=8)


def tiny_projector() -> dict:
    """A fresh config of their token projector, 32 -> 48 -> EMBED."""
    return dict(type='MLPNeck', in_channels=32, hidden_channels=48,
                out_channels=EMBED, num_layers=2, norm_cfg=dict(type='LN'),
                act='GELU')


def build(d_equi=8, **kw):
    init_default_scope('mmpretrain')
    torch.manual_seed(0)
    cfg = dict(
        type='VICRegEquiRecon',
        data_preprocessor=dict(
            type='EquiReconDataPreprocessor', mean=[123.675, 116.28, 103.53],
            std=[58.395, 57.12, 57.375], to_rgb=False,
            transform=dict(type='color')),
        backbone=tiny_vit(),
        projector=tiny_projector(),
        expander=dict(type='MLPNeck', in_channels=16 - d_equi,
                      hidden_channels=32, out_channels=32, num_layers=3,
                      norm_cfg=dict(type='BN1d')),
        head=dict(type='EquiReconHead', d_equi=d_equi,
                  decoder=dict(type='ReconDecoder', patch_size=8,
                               channels=(8, 8, 8, 8))))
    if 'topk' in kw:  # a head key
        cfg['head']['topk'] = kw.pop('topk')
    cfg.update(kw)
    model = MODELS.build(cfg)
    model.init_weights()
    return model


def raw_batch():
    """Two uint8 32-px views of B images and empty data samples."""
    g = torch.Generator().manual_seed(0)
    return dict(inputs=[torch.randint(0, 256, (B, 3, 32, 32), generator=g,
                                      dtype=torch.uint8) for _ in range(2)],
                data_samples=[DataSample() for _ in range(B)])


def test_even_split_vicreg_on_inv_and_recon_on_equi():
    model = build()
    data = model.data_preprocessor(raw_batch(), True)
    losses = model(**data, mode='loss')
    assert set(losses) == {'loss_inv', 'loss_var', 'loss_cov', 'loss_recon'}
    # the VICReg terms equal the loss on the expander of the first 8 dims
    views = data['inputs']['views']
    with torch.no_grad():
        e = model.neck(model.backbone(torch.cat(views))[0])
        z = model.expander(e[:, 0, :8])
        ref = VICRegLoss()(z[:B], z[B:])
    for k in ref:
        torch.testing.assert_close(losses[k], ref[k], rtol=1e-5, atol=1e-6)
    # the reconstruction loss reaches the backbone only through e[..., 8:]
    model.zero_grad()
    losses['loss_recon'].backward()
    w = model.neck.layers[-1].weight.grad  # (16, hidden)
    assert w[:8].abs().sum() == 0 and w[8:].abs().sum() > 0
    assert model.backbone.layers[0].attn.qkv.weight.grad.abs().sum() > 0


def test_topk_and_errors():
    model = build(topk=dict(type='EasySampleRescue', ratio=0.5))
    data = model.data_preprocessor(raw_batch(), True)
    losses = model(**data, mode='loss')
    assert 0 <= float(losses['loss_topk']) <= 1.0
    with pytest.raises(ValueError, match='expander.in_channels'):
        build(expander=dict(type='MLPNeck', in_channels=16,
                            hidden_channels=8, out_channels=8))
    with pytest.raises(ValueError, match='out_type'):
        build(backbone=dict(type='VisionTransformer', arch='deit-tiny',
                            out_type='cls_token'))
    bad = raw_batch()
    bad['inputs'].append(bad['inputs'][0])
    data = model.data_preprocessor(bad, True)
    with pytest.raises(ValueError, match='2 views'):
        model(**data, mode='loss')


def test_expander_in_channels_and_head_settings_are_derived():
    expander = dict(type='MLPNeck', hidden_channels=32, out_channels=32,
                    num_layers=3, norm_cfg=dict(type='BN1d'))
    model = build(d_equi=4, expander=expander)
    assert model.expander.layers[0].in_features == 16 - 4 == model.k_inv
    assert model.head.decoders[0].in_channels == 2 * 4
    pre = model.data_preprocessor
    assert (model.head.view_index, model.head.num_intermediate) == (
        pre.view_index, pre.num_intermediate) == (1, 2)
    with pytest.raises(ValueError, match=r'expander.in_channels=8 but .*'
                       r'16 - 4 = 12'):
        build(d_equi=4, expander=dict(expander, in_channels=8))
