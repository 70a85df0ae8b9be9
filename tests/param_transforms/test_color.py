"""Colour jitter against torchvision's float-tensor kernels."""
import pytest
import torch
import torchvision.transforms.v2.functional as TF

import mmequi  # noqa: F401
from mmequi.param_transforms import Color
from mmequi.param_transforms.color import (adjust_brightness,
                                                        adjust_contrast,
                                                        adjust_hue,
                                                        adjust_saturation)

from ._helpers import smooth_images

TOL = 1e-5


def _images(b=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    img = torch.rand(b, 3, 16, 20, generator=g)
    img[0, :, :4, :4] = 0.5  # grey pixels (hue undefined, S = 0)
    img[0, :, 4:8, :4] = 0.0  # black
    img[0, :, 8:12, :4] = 1.0  # white
    img[1, 0, :4, :] = img[1, 1, :4, :]  # ties in the max channel
    return img


OPS = {
    'brightness': (adjust_brightness, TF.adjust_brightness, 1.0),
    'contrast': (adjust_contrast, TF.adjust_contrast, 1.0),
    'saturation': (adjust_saturation, TF.adjust_saturation, 1.0),
    'hue': (adjust_hue, TF.adjust_hue, 0.0),
}


@pytest.mark.parametrize('op', sorted(OPS))
def test_single_op_matches_torchvision(op):
    ours, ref_fn, offset = OPS[op]
    img = _images()
    if op == 'hue':
        params = torch.tensor([0.1, -0.1, 0.5, -0.37])
    else:
        params = torch.tensor([0.6, 1.4, 1.0, 0.0])
    out = ours(img, params)
    for i in range(len(img)):
        ref = ref_fn(img[i], float(params[i]))
        assert torch.allclose(out[i], ref, atol=TOL, rtol=0), (op, i)


@pytest.mark.parametrize('op', sorted(OPS))
def test_color_transform_single_parameter_matches_torchvision(op):
    """Only one non-zero parameter: the other ops are exact identities."""
    _, ref_fn, offset = OPS[op]
    j = list(OPS).index(op)  # theta order: b, c, s, h
    color = Color()
    img = _images(seed=1)
    theta = torch.zeros(4, 4)
    theta[:, j] = torch.tensor([0.4, -0.4, 0.13, -0.07]) * (
        0.25 if op == 'hue' else 1.0)
    out = color.apply(img, theta)
    for i in range(4):
        ref = ref_fn(img[i], float(offset + theta[i, j]))
        assert torch.allclose(out[i], ref, atol=TOL, rtol=0), (op, i)


def test_fixed_order_matches_torchvision_chain():
    color = Color()
    img = _images(6, seed=2)
    theta = torch.tensor([[0.4, -0.3, 0.2, 0.1], [-0.4, 0.4, -0.4, -0.1],
                          [0.1, 0.1, 0.1, 0.05], [0.0, -0.2, 0.3, 0.0],
                          [-0.25, 0.0, 0.0, -0.02], [0.3, 0.3, -0.3, 0.09]])
    out = color.apply(img, theta)
    for i in range(6):
        b, c, s, h = (float(v) for v in theta[i])
        ref = TF.adjust_brightness(img[i], 1 + b)
        ref = TF.adjust_contrast(ref, 1 + c)
        ref = TF.adjust_saturation(ref, 1 + s)
        ref = TF.adjust_hue(ref, h)
        assert torch.allclose(out[i], ref, atol=TOL, rtol=0), i
    # the order is not interchangeable: hue first then brightness differs
    b, c, s, h = (float(v) for v in theta[0])
    swapped = TF.adjust_brightness(
        TF.adjust_hue(TF.adjust_saturation(TF.adjust_contrast(img[0], 1 + c),
                                           1 + s), h), 1 + b)
    assert (out[0] - swapped).abs().max() > 1e-3


def test_identity_exact():
    color = Color()
    img = _images(seed=3)
    assert torch.equal(color.apply(img, torch.zeros(4, 4)), img)
    # hue 0 alone skips the HSV round trip (which is not bit-exact)
    theta = torch.zeros(4, 4)
    theta[1, 3] = 0.01
    out = color.apply(img, theta)
    assert torch.equal(out[[0, 2, 3]], img[[0, 2, 3]])
    assert not torch.equal(out[1], img[1])


def test_linear_interpolation_and_brightness_formula():
    """theta_t = t theta; the brightness-only targets are
    clamp(u (1 + t b), 0, 1) exactly as the hand formula."""
    color = Color()
    u = smooth_images(3, 16, 16, seed=4) * 1.1  # some pixels clip
    u = u.clamp(0, 1)
    theta = torch.tensor([[0.4, 0, 0, 0], [-0.4, 0, 0, 0], [0.3, 0, 0, 0]])
    num = 2
    v2, targets = color.intermediate(u, theta, num)
    for k in range(1, num + 1):
        t = k / (num + 1)
        assert torch.equal(color.scale(theta, t), theta * t)
        factor = (1 + t * theta[:, 0])[:, None, None, None]
        ref = (u * factor).clamp(0, 1)
        assert torch.allclose(targets[k - 1], ref, atol=1e-6, rtol=0)
    assert torch.allclose(v2, (u * (1 + theta[:, 0, None, None, None]))
                          .clamp(0, 1), atol=1e-6, rtol=0)
    # contrast/saturation factors are linear in t too: t = 1/2 of c = 0.4 is
    # the torchvision contrast factor 1.2
    theta = torch.tensor([[0.0, 0.4, 0.0, 0.0]])
    _, targets = color.intermediate(u[:1], theta, 1)
    assert torch.allclose(targets[0, 0], TF.adjust_contrast(u[0], 1.2),
                          atol=TOL, rtol=0)


def test_hue_round_trip_and_full_turn():
    img = _images(seed=5)
    near = adjust_hue(img, torch.zeros(4))
    assert (near - img).abs().max() < 1e-6
    # +0.5 twice = a full turn
    twice = adjust_hue(adjust_hue(img, torch.full((4, ), 0.5)),
                       torch.full((4, ), 0.5))
    assert (twice - img).abs().max() < 1e-5
    # grey pixels never change
    grey = img[0, :, :4, :4]
    assert torch.allclose(adjust_hue(img, torch.full((4, ), 0.3))[0, :, :4, :4],
                          grey)
