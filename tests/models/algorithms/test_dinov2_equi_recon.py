"""DINOv2 + reconstruction: d_equi = 0 == DINOv2 (loss and gradients), the
split on separate heads, the method's terms."""
import pytest
import torch
from mmengine.registry import init_default_scope
from mmpretrain.registry import MODELS

from tests.conftest import loss_terms, total_loss
from tests.models.algorithms.test_dinov2 import model_cfg
from tests.models.algorithms.test_ibot_equi_recon import (
    B, D_EQUI, K_OUT, L, PRE, assert_exact_gradients, raw_batch)


def build(d_equi=D_EQUI, separate_head=False, **kw):
    init_default_scope('mmpretrain')
    torch.manual_seed(0)
    cfg = model_cfg(separate_head=separate_head, **kw)
    cfg['neck']['out_channels'] = K_OUT
    cfg['loss'].update(out_dim=None, patch_out_dim=None, num_local=L)
    cfg.update(type='DINOv2EquiRecon', data_preprocessor=PRE,
               head=dict(type='EquiReconHead', d_equi=d_equi,
                         decoder=dict(type='ReconDecoder', patch_size=8,
                                      channels=(8, 8, 8, 8))))
    model = MODELS.build(cfg)
    model.init_weights()
    model.teacher_temp = model.teacher_patch_temp = 0.04
    return model


@pytest.mark.parametrize('separate_head', [False, True])
def test_d_equi_zero_gives_exactly_dinov2_gradients(separate_head):
    equi = build(d_equi=0, separate_head=separate_head)
    plain_cfg = model_cfg(separate_head=separate_head)
    plain_cfg['neck']['out_channels'] = K_OUT
    plain_cfg['loss'].update(out_dim=K_OUT, patch_out_dim=K_OUT, num_local=L)
    plain_cfg.pop('data_preprocessor')
    plain = MODELS.build(plain_cfg)
    result = plain.load_state_dict(equi.state_dict(), strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    plain.teacher_temp = plain.teacher_patch_temp = 0.04
    data = equi.data_preprocessor(raw_batch(), True)
    le = equi(**data, mode='loss')
    lp = plain(inputs=data['inputs']['views'],
               data_samples=data['data_samples'], mode='loss')
    assert set(loss_terms(le)) == set(loss_terms(lp)) == {
        'loss_cls', 'loss_patch', 'loss_koleo'}
    for key in lp:
        torch.testing.assert_close(le[key], lp[key], rtol=0, atol=0)
    assert_exact_gradients(le, lp, equi, plain)


@pytest.mark.parametrize('separate_head', [False, True])
def test_method_terms_and_the_split(separate_head):
    model = build(separate_head=separate_head)
    assert model.k_cls_inv == model.k_patch_inv == K_OUT - D_EQUI
    assert model.ibot_loss.out_dim == K_OUT - D_EQUI
    data = model.data_preprocessor(raw_batch(), True)
    seen = []
    model.head.decoders[0].register_forward_hook(
        lambda m, a, out: seen.append(a[0].detach()))
    losses = model(**data, mode='loss')
    assert set(loss_terms(losses)) == {'loss_cls', 'loss_patch',
                                       'loss_koleo', 'loss_recon'}
    assert all(torch.isfinite(v) for v in loss_terms(losses).values())
    # decoder input: the last d_equi patch-head outputs of v1 and v2
    views = data['inputs']['views']
    masks = torch.stack([s.mask for s in data['data_samples']])
    masks = masks.transpose(0, 1).flatten(0, 1).flatten(1)
    with torch.no_grad():
        tokens = model.backbone(torch.cat(views[:2]), mask=masks)
        z = model.neck.forward_patch(tokens[:, 1:])[..., K_OUT - D_EQUI:]
    torch.testing.assert_close(seen[0], torch.cat([z[:B], z[B:]], -1),
                               rtol=1e-5, atol=1e-6)
    total_loss(losses).backward()
    assert model.head.decoders[0].parameters().__next__().grad is not None
