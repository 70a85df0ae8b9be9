"""CrossAttnRecon ([X], arXiv 2412.03314): VICReg on the invariant half
of [CLS] + MSE reconstruction of view 1 from a cross-attention over the two
views' equivariant patch tokens. Checked against a hand-assembled loss."""
import math

import pytest
import torch
import torch.nn.functional as F
from mmengine.registry import init_default_scope
from mmpretrain.registry import MODELS

from tests.models.algorithms.test_vicreg_equi_recon import (
    B, EMBED, raw_batch, tiny_projector, tiny_vit)

D_EQUI = 8
PRE = dict(type='SelfSupDataPreprocessor', mean=[123.675, 116.28, 103.53],
           std=[58.395, 57.12, 57.375], to_rgb=False)


def build(weight=1.0, **kw):
    init_default_scope('mmpretrain')
    torch.manual_seed(0)
    cfg = dict(
        type='CrossAttnRecon',
        data_preprocessor=PRE,
        backbone=tiny_vit(),
        projector=tiny_projector(),  # EMBED-d
        expander=dict(type='MLPNeck', hidden_channels=32, out_channels=32,
                      num_layers=3, norm_cfg=dict(type='BN1d')),
        decoder=dict(type='CrossAttnReconDecoder', patch_size=8,
                     embed_dims=16, num_heads=2, channels=(8, 8, 8, 8)),
        d_equi=D_EQUI,
        recon_loss=dict(type='ReconLoss', loss_weight=weight))
    cfg.update(kw)
    model = MODELS.build(cfg)
    model.init_weights()
    return model


def vicreg_by_hand(x, y):
    """VICReg (Bardes et al., 2022; 25/25/1, γ = 1, ε = 1e-4, the variance
    term averaged over the two branches as the official code) written
    out element by element."""
    n, d = x.shape
    inv = ((x - y)**2).sum() / (n * d)

    def var(z):
        std = torch.sqrt(((z - z.mean(0))**2).sum(0) / (n - 1) + 1e-4)
        return torch.clamp(1 - std, min=0).sum() / d

    def cov(z):
        c = z - z.mean(0)
        m = c.T @ c / (n - 1)
        return sum(m[i, j]**2 for i in range(d) for j in range(d)
                   if i != j) / d

    return 25 * inv + 25 * (var(x) + var(y)) / 2 + cov(x) + cov(y)


def parts(model, views):
    """The embedding of both views, computed outside the model."""
    e = model.neck(model.backbone(torch.cat(views))[0])  # (2B, 1+N, 16)
    return e[:B], e[B:]


def expand(model, e1, e2):
    """The expander on both views' invariant [CLS] parts in one batch (its
    BatchNorm sees the 2B samples, as in the model)."""
    k = EMBED - D_EQUI
    z = model.expander(torch.cat([e1[:, 0, :k], e2[:, 0, :k]]))
    return z[:B], z[B:]


def float64_losses(model):
    """``(views, losses)`` of the model in float64 (where the two
    computations agree to rounding)."""
    data = model.data_preprocessor(raw_batch(), True)
    model.double()
    views = [v.double() for v in data['inputs']]
    return views, model(views, data['data_samples'], mode='loss')


def test_loss_equals_hand_assembled_vicreg_plus_mse_of_view_1():
    model = build(weight=0.7)
    views, losses = float64_losses(model)
    assert set(losses) == {'loss_inv', 'loss_var', 'loss_cov', 'loss_recon'}
    e1, e2 = parts(model, views)
    k = EMBED - D_EQUI
    ref_vicreg = vicreg_by_hand(*expand(model, e1, e2))
    # [X]'s reconstructed view (ours where unpublished): v1, from queries
    # of v2's equivariant tokens and keys/values of v1's
    rec = model.decoder(e2[:, 1:, k:], e1[:, 1:, k:], (4, 4))
    assert rec.shape == views[0].shape
    ref_recon = 0.7 * ((rec - views[0])**2).mean()
    total = sum(losses.values())
    torch.testing.assert_close(losses['loss_inv'] + losses['loss_var']
                               + losses['loss_cov'], ref_vicreg,
                               rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(losses['loss_recon'], ref_recon, rtol=1e-10,
                               atol=1e-12)
    # a swapped view (target, or queries/keys) gives another value
    other_target = 0.7 * ((rec - views[1])**2).mean()
    swapped = model.decoder(e1[:, 1:, k:], e2[:, 1:, k:], (4, 4))
    for wrong in (other_target, 0.7 * ((swapped - views[0])**2).mean()):
        assert abs(float(wrong - losses['loss_recon'])) > 1e-6  # >> 1e-10
    # gradients of the summed loss, too
    params = [p for p in model.parameters() if p.requires_grad]
    grads = torch.autograd.grad(total, params, allow_unused=True)
    ref_grads = torch.autograd.grad(ref_vicreg + ref_recon, params,
                                    allow_unused=True)
    for g, r in zip(grads, ref_grads):
        if r is None:
            assert g is None or g.abs().sum() == 0
        else:
            torch.testing.assert_close(g, r, rtol=1e-8, atol=1e-11)


def test_recon_view_1_reconstructs_v2():
    model = build(recon_view=1)
    data = model.data_preprocessor(raw_batch(), True)
    views = data['inputs']
    with torch.no_grad():
        losses = model(views, data['data_samples'], mode='loss')
        e1, e2 = parts(model, views)
        rec = model.decoder(e1[:, 1:, EMBED - D_EQUI:],
                            e2[:, 1:, EMBED - D_EQUI:], (4, 4))
    torch.testing.assert_close(losses['loss_recon'],
                               F.mse_loss(rec, views[1]))
    out = model.reconstruct(views, data['data_samples'])
    assert len(out) == 1
    torch.testing.assert_close(out[0], rec)


def test_weight_0_is_plain_vicreg_loss_and_gradients():
    model = build(weight=0.0)
    views, losses = float64_losses(model)
    assert float(losses['loss_recon']) == 0
    params = [p for n, p in model.named_parameters()
              if not n.startswith('decoder.')]
    grads = torch.autograd.grad(sum(losses.values()), params)
    e1, e2 = parts(model, views)
    k = EMBED - D_EQUI
    ref = vicreg_by_hand(*expand(model, e1, e2))
    ref_grads = torch.autograd.grad(ref, params, allow_unused=True)
    torch.testing.assert_close(sum(losses.values()), ref, rtol=1e-10,
                               atol=1e-12)
    for (n, _), g, r in zip(
            [(n, p) for n, p in model.named_parameters()
             if not n.startswith('decoder.')], grads, ref_grads):
        if r is None:  # the equivariant rows of the projector's last layer
            assert g.abs().sum() == 0, n
        else:
            torch.testing.assert_close(g, r, rtol=1e-8, atol=1e-11)
    w = model.neck.layers[-1].weight  # (16, hidden): equi rows get nothing
    g_w, = torch.autograd.grad(sum(model(views, None, mode='loss').values()),
                               w)
    assert g_w[k:].abs().sum() == 0 and g_w[:k].abs().sum() > 0


def test_finite_cpu_step_moves_decoder_and_backbone():
    model = build()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    data = model.data_preprocessor(raw_batch(), True)
    dec = model.decoder.proj_kv.weight.detach().clone()
    bb = model.backbone.layers[0].attn.qkv.weight.detach().clone()
    losses = model(**data, mode='loss')
    total = sum(losses.values())
    assert all(math.isfinite(float(v)) for v in losses.values())
    total.backward()
    opt.step()
    assert not torch.equal(dec, model.decoder.proj_kv.weight)
    assert not torch.equal(bb, model.backbone.layers[0].attn.qkv.weight)


def test_errors():
    with pytest.raises(TypeError, match='SelfSupDataPreprocessor'):
        build(data_preprocessor=dict(
            type='EquiReconDataPreprocessor', transform=dict(type='rotation')))
    with pytest.raises(ValueError, match=r'd_equi=16 must be in \[1, 16\)'):
        build(d_equi=16)
    with pytest.raises(ValueError, match='recon_view=2'):
        build(recon_view=2)
    with pytest.raises(TypeError, match="input_mode='pair'"):
        build(decoder=dict(type='ReconDecoder', patch_size=8))
    with pytest.raises(ValueError, match='expander.in_channels=3 but'):
        build(expander=dict(type='MLPNeck', in_channels=3, hidden_channels=8,
                            out_channels=8, num_layers=2))
    model = build()
    data = model.data_preprocessor(raw_batch(), True)
    with pytest.raises(TypeError, match=r"keys \['targets', 'views'\]"):
        model(dict(views=data['inputs'], targets=data['inputs'][0][None]),
              data['data_samples'], mode='loss')
    with pytest.raises(ValueError, match='2 views'):
        model(data['inputs'] * 2, data['data_samples'], mode='loss')
