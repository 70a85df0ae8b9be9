"""ReconDecoder and CrossAttnReconDecoder: shapes, cost, gradients,
capacity, errors and the cross-attention structure."""
import math

import mmequi  # noqa: F401  (compat layer + registries)
import pytest
import torch
import torch.nn.functional as F
from mmpretrain.registry import MODELS
from torch.utils.flop_counter import FlopCounterMode

from mmequi.models.heads.cross_attn_recon_decoder import (
    CrossAttnReconDecoder, sincos_pos_embed_2d)
from mmequi.models.heads.recon_decoder import ReconDecoder, upsample_conv3x3

P = 16
FLOP_BUDGET = 1.2e9  # forward FLOPs per image at 224 px, both decoders


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _tokens(B, hw, C, seed=0):
    return torch.randn(B, hw[0] * hw[1], C, generator=_gen(seed))


# --------------------------------------------------------------------------
# shapes / registry
# --------------------------------------------------------------------------
@pytest.mark.parametrize('hw', [(14, 14), (7, 5)])
def test_recon_decoder_shape(hw):
    dec = ReconDecoder(4096)
    out = dec(_tokens(2, hw, 4096), hw)
    assert out.shape == (2, 3, hw[0] * P, hw[1] * P)
    assert torch.isfinite(out).all()


@pytest.mark.parametrize('hw', [(14, 14), (7, 5)])
def test_cross_attn_decoder_shape(hw):
    dec = CrossAttnReconDecoder(2048)
    out = dec(_tokens(2, hw, 2048, 0), _tokens(2, hw, 2048, 1), hw)
    assert out.shape == (2, 3, hw[0] * P, hw[1] * P)
    assert torch.isfinite(out).all()


def test_non_default_configs_and_registry():
    dec = MODELS.build(dict(type='ReconDecoder', in_channels=12, patch_size=8,
                            channels=(4, 6, 5), out_channels=1,
                            num_upsample=3, upsample_mode='bilinear'))
    assert isinstance(dec, ReconDecoder) and len(dec.convs) == 3
    assert dec(_tokens(3, (2, 3), 12), (2, 3)).shape == (3, 1, 16, 24)
    dec = MODELS.build(dict(type='CrossAttnReconDecoder', in_channels=10,
                            embed_dims=16, num_heads=2, patch_size=4,
                            channels=(4, 4), num_upsample=1))
    assert isinstance(dec, CrossAttnReconDecoder)
    assert isinstance(dec.decoder, ReconDecoder)  # reused, not copied
    assert dec.decoder.in_channels == 16
    out = dec(_tokens(1, (3, 2), 10, 0), _tokens(1, (3, 2), 10, 1), (3, 2))
    assert out.shape == (1, 3, 12, 8)
    with pytest.raises(ValueError, match='divisible'):
        ReconDecoder(8, patch_size=12, num_upsample=3)
    with pytest.raises(ValueError, match='num_upsample'):
        ReconDecoder(8, channels=(4, 4), num_upsample=3)
    with pytest.raises(ValueError, match='num_heads'):
        CrossAttnReconDecoder(8, embed_dims=20, num_heads=8)


def test_init_weights_default_and_init_cfg():
    dec = ReconDecoder(4096)
    dec.init_weights()
    w = dec.linear.weight
    assert abs(w.std().item() - 0.02) < 0.002
    assert (dec.linear.bias == 0).all()
    dec = ReconDecoder(8, init_cfg=dict(type='Constant', val=0.5,
                                        layer=['Linear', 'Conv2d']))
    dec.init_weights()
    assert (dec.linear.weight == 0.5).all()
    assert all((c.weight == 0.5).all() for c in dec.convs)


# --------------------------------------------------------------------------
# row-major token layout: a token only changes pixels around its own patch
# --------------------------------------------------------------------------
def test_token_maps_to_its_own_patch():
    torch.manual_seed(0)
    dec = ReconDecoder(32).eval()
    h, w, i, j = 4, 5, 1, 3
    x = _tokens(1, (h, w), 32)
    x2 = x.clone()
    x2[0, i * w + j] += 5.0
    with torch.no_grad():
        diff = (dec(x2, (h, w)) - dec(x, (h, w))).abs().sum(1)[0]  # (H, W)
    rows, cols = torch.nonzero(diff > 1e-6, as_tuple=True)
    assert rows.numel() > 0
    # the changed region is centred on patch (i, j) ...
    assert abs((rows.min() + rows.max()).item() / 2 - (i + 0.5) * P) <= 1
    assert abs((cols.min() + cols.max()).item() / 2 - (j + 0.5) * P) <= 1
    # ... and confined to its 3x3 patch neighbourhood (receptive field)
    assert rows.min() >= (i - 1) * P and rows.max() < (i + 2) * P
    assert cols.min() >= (j - 1) * P and cols.max() < (j + 2) * P


# --------------------------------------------------------------------------
# cost
# --------------------------------------------------------------------------
def _count(fn):
    with FlopCounterMode(display=False) as fc:
        fn()
    return fc.get_total_flops(), fc.get_flop_counts()['Global']


def _conv_stack_flops(hw, sub, channels, ups, out=3):
    """Independent count: 2 * MACs of the 3x3 conv stack."""
    H, W = hw[0] * sub, hw[1] * sub
    widths = list(channels) + [out]
    total = 0
    for k in range(len(channels)):
        if k >= len(channels) - ups:
            H, W = 2 * H, 2 * W
        total += 2 * H * W * widths[k] * widths[k + 1] * 9
    return total


def test_recon_decoder_flops():
    hw, cin = (14, 14), 4096
    dec = ReconDecoder(cin)
    flops, _ = _count(lambda: dec(_tokens(1, hw, cin), hw))
    n = hw[0] * hw[1]
    expected = 2 * n * cin * 16 * 16 + _conv_stack_flops(
        hw, 4, (16, 32, 32, 16), 2)
    print(f'\nReconDecoder(4096) forward @224px: {flops / 1e9:.4f} GFLOP, '
          f'{sum(p.numel() for p in dec.parameters())} params')
    assert flops == expected
    assert flops <= FLOP_BUDGET
    assert sum(p.numel() for p in dec.parameters()) == 1_067_779


def test_cross_attn_decoder_flops():
    hw, d, E = (14, 14), 2048, 256
    dec = CrossAttnReconDecoder(d)
    z1, z2 = _tokens(1, hw, d, 0), _tokens(1, hw, d, 1)
    flops, per_op = _count(lambda: dec(z1, z2, hw))
    n = hw[0] * hw[1]
    attn = 2 * (2 * n * n * E)  # q k^T and attn v
    # FlopCounterMode has no formula for the CPU flash-attention kernel of
    # scaled_dot_product_attention: add the analytic count when missing
    if not any('attention' in str(op) for op in per_op):
        flops += attn
    expected = (2 * (2 * n * d * E)  # input projections
                + 4 * (2 * n * E * E)  # q, k, v, out
                + attn
                + 2 * (2 * n * E * 2 * E)  # MLP, ratio 2
                + 2 * n * E * 256  # ReconDecoder linear E -> 16 * 4 * 4
                + _conv_stack_flops(hw, 4, (16, 32, 32, 16), 2))
    print(f'\nCrossAttnReconDecoder(2048) forward @224px: '
          f'{flops / 1e9:.4f} GFLOP, '
          f'{sum(p.numel() for p in dec.parameters())} params')
    assert flops == expected
    assert flops <= FLOP_BUDGET


# --------------------------------------------------------------------------
# gradients and capacity
# --------------------------------------------------------------------------
@pytest.mark.parametrize('kind', ['recon', 'xattn'])
def test_gradients_reach_every_parameter(kind):
    torch.manual_seed(0)
    hw = (3, 2)
    if kind == 'recon':
        dec = ReconDecoder(64)
        args = (_tokens(2, hw, 64),)
    else:
        dec = CrossAttnReconDecoder(64, embed_dims=32, num_heads=4)
        args = (_tokens(2, hw, 64, 0), _tokens(2, hw, 64, 1))
    out = dec(*args, hw)
    (out * torch.randn(out.shape, generator=_gen(3))).sum().backward()
    for name, p in dec.named_parameters():
        assert p.grad is not None, name
        assert p.grad.abs().sum() > 0, name


@pytest.mark.parametrize('kind', ['recon', 'xattn'])
def test_overfits_a_single_target(kind):
    torch.manual_seed(0)
    hw = (2, 2)
    if kind == 'recon':
        dec = ReconDecoder(4096)
        args = (_tokens(1, hw, 4096, 1),)
    else:
        dec = CrossAttnReconDecoder(2048)
        args = (_tokens(1, hw, 2048, 1), _tokens(1, hw, 2048, 2))
    # a smooth normalised image (like a real one), 32 x 32
    target = F.interpolate(torch.randn(1, 3, 4, 4, generator=_gen(0)),
                           size=(32, 32), mode='bilinear',
                           align_corners=False)
    target = (target - target.mean()) / target.std()
    opt = torch.optim.Adam(dec.parameters(), lr=1e-3)
    losses = []
    for _ in range(40):
        loss = F.mse_loss(dec(*args, hw), target)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert min(losses[-5:]) < losses[0] / 5, losses


# --------------------------------------------------------------------------
# errors
# --------------------------------------------------------------------------
def test_wrong_inputs_raise():
    dec = ReconDecoder(8)
    with pytest.raises(ValueError, match=r'N=195 tokens.*h\*w=196'):
        dec(torch.zeros(1, 195, 8), (14, 14))
    with pytest.raises(ValueError, match=r'N=35 tokens.*h\*w=36'):
        dec(torch.zeros(1, 35, 8), (6, 6))
    with pytest.raises(ValueError, match='in_channels=8'):
        dec(torch.zeros(1, 4, 9), (2, 2))
    with pytest.raises(ValueError, match=r'\(B, N, C\)'):
        dec(torch.zeros(4, 8), (2, 2))
    with pytest.raises(ValueError, match='hw'):
        dec(torch.zeros(1, 4, 8), (4, ))
    xdec = CrossAttnReconDecoder(8, embed_dims=16, num_heads=2)
    with pytest.raises(ValueError, match=r'z2 have N=6'):
        xdec(torch.zeros(1, 4, 8), torch.zeros(1, 6, 8), (2, 2))
    with pytest.raises(ValueError, match=r'z1 have N=4'):
        xdec(torch.zeros(1, 4, 8), torch.zeros(1, 4, 8), (1, 3))
    with pytest.raises(ValueError, match='batch'):
        xdec(torch.zeros(1, 4, 8), torch.zeros(2, 4, 8), (2, 2))


# --------------------------------------------------------------------------
# cross-attention structure
# --------------------------------------------------------------------------
def test_sincos_pos_embed_matches_formula():
    h, w, E = 3, 4, 8
    emb = sincos_pos_embed_2d(h, w, E, dtype=torch.float64)
    assert emb.shape == (h * w, E)
    q = E // 4
    for y in range(h):
        for x in range(w):
            row = emb[y * w + x]
            for k in range(q):
                om = 10000.0**(-k / q)
                assert math.isclose(row[k], math.sin(y * om), abs_tol=1e-6)
                assert math.isclose(row[q + k], math.cos(y * om),
                                    abs_tol=1e-6)
                assert math.isclose(row[2 * q + k], math.sin(x * om),
                                    abs_tol=1e-6)
                assert math.isclose(row[3 * q + k], math.cos(x * om),
                                    abs_tol=1e-6)


def _rel(a, b):
    return ((a - b).abs().max() / a.abs().max()).item()


def _small_xattn(**kw):
    torch.manual_seed(0)
    return CrossAttnReconDecoder(24, embed_dims=32, num_heads=4,
                                 **kw).eval()


def test_cross_attn_output_depends_on_z2():
    dec = _small_xattn()
    hw = (3, 4)
    z1, z2 = _tokens(2, hw, 24, 0), _tokens(2, hw, 24, 1)
    with torch.no_grad():
        base = dec(z1, z2, hw)
        other = dec(z1, _tokens(2, hw, 24, 2), hw)
    assert _rel(base, other) > 0.05


def test_cross_attn_queries_from_z1_keys_values_from_z2():
    hw = (3, 4)
    z1, z2 = _tokens(2, hw, 24, 0), _tokens(2, hw, 24, 1)
    perm = torch.randperm(12, generator=_gen(5))
    assert not torch.equal(perm, torch.arange(12))
    # with the fixed position embedding, moving view-2 tokens to other
    # positions changes what each query sees -> the image changes
    dec = _small_xattn()
    with torch.no_grad():
        base = dec(z1, z2, hw)
        moved = dec(z1, z2[:, perm], hw)
    assert _rel(base, moved) > 0.02
    # without it, keys/values form a set: permuting z2 tokens is a no-op,
    # while permuting z1 (the queries, which carry the layout) is not
    dec = _small_xattn(use_pos_embed=False)
    with torch.no_grad():
        base = dec(z1, z2, hw)
        kv_perm = dec(z1, z2[:, perm], hw)
        q_perm = dec(z1[:, perm], z2, hw)
    torch.testing.assert_close(kv_perm, base, rtol=1e-5, atol=1e-5)
    assert _rel(base, q_perm) > 0.05
    # the same module works for another token grid
    with torch.no_grad():
        out = dec(_tokens(1, (5, 2), 24, 0), _tokens(1, (5, 2), 24, 1),
                  (5, 2))
    assert out.shape == (1, 3, 80, 32)


@pytest.mark.parametrize('mode', ['nearest', 'bilinear'])
def test_channels_last_switch_gives_the_same_output_and_gradients(
        mode, monkeypatch):
    """Speed switch ``channels_last=True``: every convolution gets an NHWC
    tensor, and the output and the gradients equal the NCHW path's (fp32
    tolerance). pixel_shuffle is made to return NCHW here (as a backend
    may; torch's CPU kernel keeps the NHWC strides of the transposed token
    reshape), so that the two paths really differ in layout."""
    shuffle = F.pixel_shuffle
    monkeypatch.setattr(F, 'pixel_shuffle',
                        lambda x, s: shuffle(x, s).contiguous())
    runs = []
    for channels_last in (False, True):
        torch.manual_seed(0)
        dec = ReconDecoder(in_channels=12, patch_size=8, upsample_mode=mode,
                           channels=(8, 6, 6, 4), num_upsample=2,
                           channels_last=channels_last)
        layouts = []
        conv2d = F.conv2d  # the convs and the fused upsample+conv call it

        def recording_conv2d(x, *args, **kwargs):
            layouts.append(x.is_contiguous(memory_format=torch.channels_last))
            return conv2d(x, *args, **kwargs)

        tokens = _tokens(2, (3, 4), 12).requires_grad_()
        with monkeypatch.context() as m:
            m.setattr(F, 'conv2d', recording_conv2d)
            out = dec(tokens, (3, 4))
        out.square().mean().backward()
        assert layouts == [channels_last] * 4  # every conv input
        runs.append((out.detach(), tokens.grad,
                     {n: p.grad for n, p in dec.named_parameters()}))
    (o0, t0, g0), (o1, t1, g1) = runs
    torch.testing.assert_close(o1, o0, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(t1, t0, rtol=1e-5, atol=1e-6)
    for n in g0:
        torch.testing.assert_close(g1[n], g0[n], rtol=1e-5, atol=1e-6,
                                   msg=n)


# --------------------------------------------------------------------------
# the upsample + conv computed at low resolution
# --------------------------------------------------------------------------
@pytest.mark.parametrize('shape', [(2, 5, 7, 6), (1, 3, 1, 4)])
@pytest.mark.parametrize('bias', [True, False])
def test_upsample_conv3x3_is_nearest_upsampling_then_the_conv(shape, bias):
    """Output and gradients (input, weight, bias) equal F.interpolate
    (nearest, x2) followed by the convolution, borders included."""
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(shape[1], 4, 3, padding=1, bias=bias)
    x = torch.randn(shape, dtype=torch.float64, requires_grad=True)
    conv = conv.double()
    outs = []
    for fast in (True, False):
        x.grad = None
        conv.zero_grad()
        y = upsample_conv3x3(x, conv) if fast else conv(
            F.interpolate(x, scale_factor=2.0, mode='nearest'))
        (y * torch.randn(y.shape, generator=_gen(1),
                         dtype=y.dtype)).sum().backward()
        outs.append([y.detach(), x.grad] + [p.grad for p in
                                            conv.parameters()])
    assert outs[0][0].shape == (shape[0], 4, 2 * shape[2], 2 * shape[3])
    for a, b in zip(*outs):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)
    # a channels-last input keeps its layout (and the values)
    x_cl = x.detach().contiguous(memory_format=torch.channels_last)
    y_cl = upsample_conv3x3(x_cl, conv)
    assert y_cl.is_contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(y_cl, outs[0][0], rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match='3x3 convolution with stride 1'):
        upsample_conv3x3(x, torch.nn.Conv2d(shape[1], 4, 3, padding=2))


def test_recon_decoder_matches_the_upsampled_computation():
    """ReconDecoder's output and parameter gradients equal the written-out
    design (linear, pixel shuffle, convs, x2 nearest upsampling of the full
    image before each of the last U convolutions)."""
    torch.manual_seed(0)
    dec = ReconDecoder(24, patch_size=8, channels=(4, 6, 5, 3))
    hw = (3, 2)
    tokens = _tokens(2, hw, 24)
    weights = torch.randn(2, 3, 24, 16, generator=_gen(2))

    def by_hand():
        x = dec.linear(tokens).transpose(1, 2).reshape(2, -1, *hw)
        x = F.pixel_shuffle(x, dec.sub)
        for i, conv in enumerate(dec.convs):
            if i >= len(dec.convs) - dec.num_upsample:
                x = F.interpolate(x, scale_factor=2.0, mode='nearest')
            x = conv(x)
            if i < len(dec.convs) - 1:
                x = F.gelu(x)
        return x

    outs = []
    for fn in (lambda: dec(tokens, hw), by_hand):
        dec.zero_grad()
        y = fn()
        (y * weights).sum().backward()
        outs.append([y.detach()] + [p.grad.clone()
                                    for p in dec.parameters()])
    for a, b in zip(*outs):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)
