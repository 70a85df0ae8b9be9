"""SimpleFPN (ViTDet's simple feature pyramid): strides and shapes, level
values against an independent composition of its own submodules, the
registry entries (mmdet by string, LN2d under mmdet's scope) and errors."""
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.registry import DefaultScope

import mmequi  # noqa: F401  (registers SimpleFPN / LN2d)
from mmequi.models import SimpleFPN
from mmpretrain.models.utils import LayerNorm2d

C, H, W = 32, 6, 10  # stride-16 map of a 96 x 160 image


def _neck(**kwargs) -> SimpleFPN:
    torch.manual_seed(0)
    neck = SimpleFPN(in_channels=C, out_channels=16, **kwargs)
    # non-trivial affine params of every norm (init is 1 / 0)
    with torch.no_grad():
        for m in neck.modules():
            if isinstance(m, nn.LayerNorm):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.5, 0.5)
    return neck.eval()


def _ln2d(x, norm):
    """LayerNorm over channels of a (B, C, H, W) map, by hand."""
    mu = x.mean(1, keepdim=True)
    var = x.var(1, unbiased=False, keepdim=True)
    y = (x - mu) / torch.sqrt(var + norm.eps)
    return y * norm.weight[None, :, None, None] + norm.bias[None, :, None,
                                                           None]


def _convs(neck, i, x):
    """1x1 conv + LN2d, 3x3 conv + LN2d of level i, with F.conv2d."""
    lat, out = neck.lateral_convs[i], neck.output_convs[i]
    assert lat.conv.bias is None and out.conv.bias is None
    y = _ln2d(F.conv2d(x, lat.conv.weight), lat.norm)
    return _ln2d(F.conv2d(y, out.conv.weight, padding=1), out.norm)


def test_strides_and_shapes():
    neck = _neck()
    x = torch.randn(2, C, H, W)
    outs = neck(x)
    assert neck.strides == (4, 8, 16, 32, 64)
    assert [tuple(o.shape) for o in outs] == [
        (2, 16, 24, 40), (2, 16, 12, 20), (2, 16, 6, 10), (2, 16, 3, 5),
        (2, 16, 2, 3)]
    # a 1-tuple (mmpretrain ViT out_type='featmap', one out index) works
    for a, b in zip(neck((x, )), outs):
        torch.testing.assert_close(a, b)
    # channels of the resampling stages: C/4, C/2, C, C
    assert [type(m).__name__ for m in neck.stages[0]] == [
        'ConvTranspose2d', 'LayerNorm2d', 'GELU', 'ConvTranspose2d']
    assert neck.stages[0][3].out_channels == C // 4
    assert neck.stages[1].out_channels == C // 2
    assert isinstance(neck.stages[2], nn.Identity)
    assert [m.conv.in_channels for m in neck.lateral_convs] == [
        C // 4, C // 2, C, C]


def test_levels_match_independent_forward():
    neck = _neck()
    x = torch.randn(2, C, H, W)
    with torch.no_grad():
        outs = neck(x)
        # stride 16: identity path
        torch.testing.assert_close(outs[2], _convs(neck, 2, x))
        # stride 32: 2x2 max pool of the input, then the convs
        torch.testing.assert_close(
            outs[3], _convs(neck, 3, F.max_pool2d(x, 2, stride=2)))
        # stride 8: one 2x2 stride-2 transposed conv
        d = neck.stages[1]
        torch.testing.assert_close(
            outs[1],
            _convs(neck, 1, F.conv_transpose2d(x, d.weight, d.bias,
                                               stride=2)))
        # stride 4: deconv, LN2d, GELU (exact erf), deconv
        d1, ln, _, d2 = neck.stages[0]
        y = F.conv_transpose2d(x, d1.weight, d1.bias, stride=2)
        y = F.gelu(_ln2d(y, ln))
        y = F.conv_transpose2d(y, d2.weight, d2.bias, stride=2)
        torch.testing.assert_close(outs[0], _convs(neck, 0, y))
        # stride 64: every other pixel of the stride-32 output
        torch.testing.assert_close(outs[4], outs[3][:, :, ::2, ::2])
        torch.testing.assert_close(
            outs[4], F.max_pool2d(outs[3], kernel_size=1, stride=2))


def test_transposed_conv_places_kernel_per_pixel():
    """2x2 stride-2 deconv: output pixel (2i + a, 2j + b) = W[:, :, a, b]
    applied to input pixel (i, j) -- checked by hand on one level."""
    neck = _neck(scale_factors=(2.0, ), num_outs=1)
    d = neck.stages[0]
    x = torch.randn(1, C, 3, 4)
    with torch.no_grad():
        y = d(x)
        for a in range(2):
            for b in range(2):
                ref = torch.einsum('nchw,co->nohw', x, d.weight[:, :, a, b])
                torch.testing.assert_close(y[:, :, a::2, b::2],
                                           ref + d.bias[None, :, None, None])


def test_build_from_mmdet_registry_with_ln2d():
    from mmdet.registry import MODELS
    assert MODELS.module_dict['SimpleFPN'] is SimpleFPN
    assert MODELS.module_dict['LN2d'] is LayerNorm2d
    cfg = dict(type='SimpleFPN', in_channels=C, out_channels=8,
               norm_cfg=dict(type='LN2d', eps=1e-6))
    # as in a runner with default_scope='mmdet', and with no scope at all
    with DefaultScope.overwrite_default_scope('mmdet'):
        neck = MODELS.build(cfg)
    assert isinstance(neck, SimpleFPN)
    assert isinstance(neck.lateral_convs[0].norm, LayerNorm2d)
    assert neck.lateral_convs[0].norm.eps == 1e-6
    assert isinstance(neck.stages[0][1], LayerNorm2d)
    outs = MODELS.build(cfg)(torch.randn(1, C, 4, 4))
    assert len(outs) == 5 and outs[0].shape == (1, 8, 16, 16)
    from mmpretrain.registry import MODELS as PRETRAIN_MODELS
    assert PRETRAIN_MODELS.module_dict['SimpleFPN'] is SimpleFPN


def test_errors():
    neck = _neck()
    with pytest.raises(ValueError, match='ONE backbone feature map'):
        neck((torch.randn(1, C, 4, 4), torch.randn(1, C, 4, 4)))
    with pytest.raises(ValueError, match='got a map with 8 channels'):
        neck(torch.randn(1, 8, 4, 4))
    with pytest.raises(ValueError, match='B, C, H, W'):
        neck(torch.randn(C, 4, 4))
    with pytest.raises(ValueError, match='subset'):
        SimpleFPN(C, scale_factors=(8.0, 4.0))
    with pytest.raises(ValueError, match='decreasing'):
        SimpleFPN(C, scale_factors=(1.0, 2.0))
    with pytest.raises(ValueError, match='num_outs=2'):
        SimpleFPN(C, num_outs=2)
    with pytest.raises(ValueError, match='divisible by 4'):
        SimpleFPN(30)


@pytest.mark.slow
def test_import_mmequi_without_mmdet():
    """mmpretrain-only installs: ``import mmequi`` works and SimpleFPN is
    in mmpretrain's registry; only the mmdet registration is skipped."""
    import sys

    from tests.conftest import run_tool
    code = (
        "import sys; sys.modules['mmdet'] = None\n"  # import mmdet -> error
        "import torch, mmequi\n"
        "from mmequi.models.necks import simple_fpn\n"
        "from mmpretrain.registry import MODELS\n"
        "assert simple_fpn.DET_MODELS is None\n"
        "neck = MODELS.build(dict(type='SimpleFPN', in_channels=8,"
        " out_channels=4))\n"
        "outs = neck(torch.randn(1, 8, 4, 4))\n"
        "assert [o.shape[-1] for o in outs] == [16, 8, 4, 2, 1]\n"
        "print('SIMPLEFPN_OK')\n")
    out = run_tool([sys.executable, '-c', code]).stdout
    assert 'SIMPLEFPN_OK' in out
