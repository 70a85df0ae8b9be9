"""EquiReconHead: decoder inputs, loss values against a hand computation,
derived in_channels, input-mode validation, d_equi = 0, the rescue loss."""
import mmequi  # noqa: F401  (compat layer + registries)
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmpretrain.registry import MODELS

from mmequi.models.data_preprocessors import EquiReconDataPreprocessor
from mmequi.models.heads import EquiReconHead

B, N, D, K = 3, 6, 4, 2
HW = (2, 3)
DEC = dict(type='ReconDecoder', patch_size=4, channels=(4, 4), num_upsample=1)
PAIR = dict(type='CrossAttnReconDecoder', embed_dims=8, num_heads=2,
            patch_size=4, channels=(4, 4), num_upsample=1)


def head(decoder=DEC, view_index=1, **kw):
    torch.manual_seed(0)
    return MODELS.build(dict(type='EquiReconHead', d_equi=D,
                             num_intermediate=K, view_index=view_index,
                             decoder=decoder, **kw))


def features(seed=0):
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(2, B, N, D, generator=g)  # (2, B, N, d) view order
    targets = torch.randn(K, B, 3, 8, 12, generator=g)  # (K, B, 3, H, W)
    return z, targets


@pytest.mark.parametrize('view_index', [0, 1])
def test_loss_is_the_mse_of_each_decoder_averaged_over_k(view_index):
    h = head(view_index=view_index, loss=dict(type='ReconLoss',
                                              loss_weight=0.5))
    z, targets = features()
    losses = h.loss(z, HW, targets)
    assert set(losses) == {'loss_recon'}
    plain, moved = z[1 - view_index], z[view_index]  # u's view, g_θ(u)'s
    by_hand = 0.0
    for k in range(K):
        x = torch.cat([plain, moved], dim=-1)  # [z1 ; z2], (B, N, 2d)
        pred = h.decoders[k](x, HW)  # (B, 3, 8, 12)
        by_hand += ((pred - targets[k]) ** 2).sum() / pred.numel()
    torch.testing.assert_close(losses['loss_recon'], 0.5 * by_hand / K,
                               rtol=1e-6, atol=0)
    # decode() returns the K images the loss used
    preds = h.decode(z, HW)
    assert len(preds) == K and preds[0].shape == (B, 3, 8, 12)
    assert not torch.equal(preds[0], preds[1])  # K independent decoders


def test_pair_decoders_get_the_two_views_separately():
    h = head(PAIR, view_index=0)
    z, targets = features(1)
    preds = h.decode(z, HW)
    for k in range(K):  # queries from the plain view (here views[1])
        torch.testing.assert_close(preds[k], h.decoders[k](z[1], z[0], HW))
    assert h.decoders[0].in_channels == D  # per view
    assert h.decoders[0].proj_q.in_features == D


def test_in_channels_follow_from_d_equi_and_the_declared_input():
    assert head().decoders[0].in_channels == 2 * D
    assert head(PAIR).decoders[0].in_channels == D
    assert head(dict(DEC, in_channels=2 * D)).decoders[0].in_channels == 2 * D
    with pytest.raises(ValueError, match=f'in_channels={D}.*gives {2 * D}'):
        head(dict(DEC, in_channels=D))
    with pytest.raises(ValueError, match=f"in_channels={2 * D}.*gives {D}"):
        head(dict(PAIR, in_channels=2 * D))


def test_decoders_must_declare_their_input():
    class Undeclared(nn.Module):
        def __init__(self, in_channels):
            super().__init__()

    class Wrong(Undeclared):
        input_mode = 'both'

    for cls in (Undeclared, Wrong):
        with pytest.raises(TypeError, match=f'{cls.__name__} declares '
                           'input_mode'):
            head(dict(type=cls))
    with pytest.raises(KeyError, match='NoSuchDecoder'):
        head(dict(type='NoSuchDecoder'))


def test_d_equi_zero_has_no_decoders_and_no_state():
    h = MODELS.build(dict(type='EquiReconHead', d_equi=0, num_intermediate=K,
                          view_index=1))
    assert not hasattr(h, 'decoders') and not h.state_dict()
    z, targets = features()
    assert h.loss(z[..., :0], HW, targets) == {}
    with pytest.raises(RuntimeError, match='d_equi=0'):
        h.decode(z, HW)


def test_argument_errors():
    with pytest.raises(ValueError, match='view_index=2'):
        head(view_index=2)
    with pytest.raises(ValueError, match='num_intermediate=0.*d_equi=0'):
        MODELS.build(dict(type='EquiReconHead', d_equi=D, num_intermediate=0,
                          view_index=1))
    with pytest.raises(ValueError, match='num_intermediate'):
        MODELS.build(dict(type='EquiReconHead', d_equi=0,
                          num_intermediate=-1, view_index=1))
    plain = MODELS.build(dict(type='EquiReconHead', d_equi=0,
                              num_intermediate=0, view_index=1))
    assert plain.loss(None, HW, torch.zeros(0, 2, 3, 8, 8)) == {}
    with pytest.raises(ValueError, match='d_equi'):
        MODELS.build(dict(type='EquiReconHead', d_equi=-1,
                          num_intermediate=K, view_index=1))
    h = head()
    z, targets = features()
    with pytest.raises(ValueError, match='3 targets.*num_intermediate=2'):
        h.loss(z, HW, targets[[0, 1, 1]])
    with pytest.raises(ValueError, match=r'\(2, B, N, d\)'):
        h.decode(z[:1], HW)


def test_rescue_loss_against_a_hand_computation():
    # no strong op fires and no normalisation: the strong views are the views
    still = dict(p_geo=0.0, p_color=0.0, p_gray=0.0, p_blur=0.0,
                 p_solarize=0.0)
    h = head(topk=dict(type='EasySampleRescue', ratio=0.34, loss_weight=0.5,
                       strong_aug=still))
    pre = EquiReconDataPreprocessor(transform=dict(type='rotation'))
    g = torch.Generator().manual_seed(2)
    inv = torch.randn(2, B, 5, generator=g)
    inv[1, 2] = 3 * inv[0, 2]  # sample 2: the most similar pair (cos = 1)
    views = torch.rand(2, B, 3, 8, 8, generator=g)
    target = torch.randn(2, B, 3, generator=g)

    def forward(x):  # (n, 3, H, W) -> (n, 3)
        return x.mean(dim=(2, 3))

    loss = h.rescue_loss(inv, views, target, forward, pre)
    out = views[:, 2].mean(dim=(2, 3))  # (2, 3): both views of sample 2
    other = target[:, 2].flip(0)  # view 1 -> view 2's target and back
    by_hand = 0.5 * (1 - F.cosine_similarity(out, other, dim=-1)).mean()
    torch.testing.assert_close(loss, by_hand, rtol=1e-6, atol=1e-7)
    with pytest.raises(RuntimeError, match='topk'):
        head().rescue_loss(inv, views, target, forward, pre)


def test_registered_as_an_mmpretrain_model():
    assert MODELS.get('EquiReconHead') is EquiReconHead
