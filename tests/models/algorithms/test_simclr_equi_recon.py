"""SimCLR base + reconstruction: d_equi = 0 is plain SimCLR (loss and
gradients of an independent computation), the split routes InfoNCE to the
invariant [CLS] part and the reconstruction to the patches' equivariant
part."""
import math

import pytest
import torch
import torch.nn.functional as F
from mmengine.registry import init_default_scope
from mmpretrain.registry import MODELS

from tests.models.algorithms.test_vicreg_equi_recon import (
    B, EMBED, raw_batch, tiny_projector, tiny_vit)


def build(d_equi=8, **kw):
    init_default_scope('mmpretrain')
    torch.manual_seed(0)
    cfg = dict(
        type='SimCLREquiRecon',
        data_preprocessor=dict(
            type='EquiReconDataPreprocessor', mean=[123.675, 116.28, 103.53],
            std=[58.395, 57.12, 57.375], to_rgb=False,
            transform=dict(type='rotation')),
        backbone=tiny_vit(),
        projector=tiny_projector(),  # EMBED-d
        loss=dict(type='InfoNCELoss', temperature=0.5),
        head=dict(type='EquiReconHead', d_equi=d_equi,
                  decoder=dict(type='ReconDecoder', patch_size=8,
                               channels=(8, 8, 8, 8))))
    if 'topk' in kw:  # a head key
        cfg['head']['topk'] = kw.pop('topk')
    cfg.update(kw)
    model = MODELS.build(cfg)
    model.init_weights()
    return model


def plain_simclr(z1, z2, tau):
    """NT-Xent written out: the similarity matrix of the 2B normalised
    vectors, each row's own entry removed, cross-entropy to the other
    view (Chen et al., 2020, Eq. 1)."""
    u = F.normalize(torch.cat([z1, z2]), dim=1)  # (2B, D)
    n = u.shape[0]
    sim = u @ u.T / tau  # (2B, 2B)
    total = 0
    for i in range(n):
        j = (i + n // 2) % n
        others = torch.cat([sim[i, :i], sim[i, i + 1:]])
        total = total - (sim[i, j] - torch.logsumexp(others, 0))
    return total / n


def test_d_equi_0_is_plain_simclr():
    model = build(d_equi=0)
    assert model.k_inv == EMBED and not hasattr(model.head, 'decoders')
    data = model.data_preprocessor(raw_batch(), True)
    # float64: the two computations agree to rounding
    model.double()
    data['inputs']['views'] = [v.double() for v in data['inputs']['views']]
    losses = model(**data, mode='loss')
    assert set(losses) == {'loss_infonce'}
    params = [p for p in model.parameters() if p.requires_grad]
    grads = torch.autograd.grad(losses['loss_infonce'], params)
    # the plain SimCLR computation with the same modules
    views = data['inputs']['views']
    z = model.neck(model.backbone(torch.cat(views))[0])[:, 0]  # (2B, 16)
    ref = plain_simclr(z[:B], z[B:], 0.5)
    ref_grads = torch.autograd.grad(ref, params)
    torch.testing.assert_close(losses['loss_infonce'], ref, rtol=1e-12,
                               atol=1e-12)
    for g, r in zip(grads, ref_grads):
        torch.testing.assert_close(g, r, rtol=1e-10, atol=1e-12)
    assert 0 < float(ref) < math.log(2 * B) + 2 / 0.5  # a sane value


def test_split_infonce_on_inv_and_recon_on_equi():
    model = build(d_equi=8)
    assert model.k_inv == EMBED - 8
    data = model.data_preprocessor(raw_batch(), True)
    losses = model(**data, mode='loss')
    assert set(losses) == {'loss_infonce', 'loss_recon'}
    views = data['inputs']['views']
    with torch.no_grad():
        z = model.neck(model.backbone(torch.cat(views))[0])[:, 0, :8]
        ref = plain_simclr(z[:B], z[B:], 0.5)
    torch.testing.assert_close(losses['loss_infonce'], ref, rtol=1e-6,
                               atol=1e-7)
    w = model.neck.layers[-1].weight  # (16, hidden)
    g_nce, = torch.autograd.grad(losses['loss_infonce'], w,
                                 retain_graph=True)
    assert g_nce[8:].abs().sum() == 0 and g_nce[:8].abs().sum() > 0
    g_rec, = torch.autograd.grad(losses['loss_recon'], w)
    assert g_rec[:8].abs().sum() == 0 and g_rec[8:].abs().sum() > 0
    assert model.head.decoders[0].in_channels == 2 * 8
    recon = model.reconstruct(data['inputs'], data['data_samples'])
    assert len(recon) == 2 and recon[0].shape == (B, 3, 32, 32)


def test_topk_and_errors():
    model = build(topk=dict(type='EasySampleRescue', ratio=0.5))
    data = model.data_preprocessor(raw_batch(), True)
    losses = model(**data, mode='loss')
    assert 0 <= float(losses['loss_topk']) <= 1.0
    with pytest.raises(ValueError, match=r'head.d_equi=16 must be in'):
        build(d_equi=16)
    with pytest.raises(ValueError, match='SimCLREquiRecon needs backbone'
                       '.out_type'):
        build(backbone=dict(type='VisionTransformer', arch='deit-tiny',
                            out_type='cls_token'))
    bad = raw_batch()
    bad['inputs'].append(bad['inputs'][0])
    data = model.data_preprocessor(bad, True)
    with pytest.raises(ValueError, match='2 views'):
        model(**data, mode='loss')
