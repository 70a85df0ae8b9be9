"""mmcv.ops.roi_align / RoIAlign on mmequi's backend vs a scalar-loop
bilinear reference of mmcv's kernel (roi_align_cuda_kernel.cuh) written here.
"""
import mmequi  # noqa: F401  (installs the mmcv op backend first)

import math

import numpy as np
import pytest
import torch
from mmcv.ops import RoIAlign, roi_align

from mmequi.compat.mmcv_ops import MMCVOpUnavailableError


def bilinear_weights(height, width, y, x):
    """mmcv's bilinear_interpolate(_gradient): [(flat_index, weight)]."""
    if y < -1.0 or y > height or x < -1.0 or x > width:
        return []
    y = max(y, 0.)
    x = max(x, 0.)
    y_low, x_low = int(y), int(x)
    if y_low >= height - 1:
        y_high = y_low = height - 1
        y = float(y_low)
    else:
        y_high = y_low + 1
    if x_low >= width - 1:
        x_high = x_low = width - 1
        x = float(x_low)
    else:
        x_high = x_low + 1
    ly, lx = y - y_low, x - x_low
    hy, hx = 1. - ly, 1. - lx
    return [(y_low * width + x_low, hy * hx), (y_low * width + x_high, hy * lx),
            (y_high * width + x_low, ly * hx),
            (y_high * width + x_high, ly * lx)]


def ref_roi_align_matrix(rois, n, height, width, out_h, out_w, scale,
                         sampling_ratio, aligned):
    """Linear map M (R*PH*PW, N*H*W): output[r, c, ph, pw] =
    sum_k M[(r, ph, pw), k] * input[:, c].flat[k] (channel independent)."""
    rois = np.asarray(rois, dtype=np.float64)
    mat = np.zeros((len(rois) * out_h * out_w, n * height * width))
    for r, (b, x1, y1, x2, y2) in enumerate(rois):
        b = int(b)
        off = 0.5 if aligned else 0.
        sw, sh = x1 * scale - off, y1 * scale - off
        rw, rh = x2 * scale - off - sw, y2 * scale - off - sh
        if not aligned:
            rw, rh = max(rw, 1.), max(rh, 1.)
        bh, bw = rh / out_h, rw / out_w
        gh = sampling_ratio if sampling_ratio > 0 else math.ceil(rh / out_h)
        gw = sampling_ratio if sampling_ratio > 0 else math.ceil(rw / out_w)
        count = max(gh * gw, 1)
        for ph in range(out_h):
            for pw in range(out_w):
                row = (r * out_h + ph) * out_w + pw
                for iy in range(gh):
                    y = sh + ph * bh + (iy + .5) * bh / gh
                    for ix in range(gw):
                        x = sw + pw * bw + (ix + .5) * bw / gw
                        for k, wgt in bilinear_weights(height, width, y, x):
                            mat[row, b * height * width + k] += wgt / count
    return mat


def ref_roi_align(inp, rois, out_size, scale, sampling_ratio, aligned):
    inp = np.asarray(inp, dtype=np.float64)
    n, c, h, w = inp.shape
    mat = ref_roi_align_matrix(rois, n, h, w, *out_size, scale,
                               sampling_ratio, aligned)
    flat = inp.transpose(1, 0, 2, 3).reshape(c, -1)  # (C, N*H*W)
    out = (mat @ flat.T)  # (R*PH*PW, C)
    return out.reshape(len(rois), *out_size, c).transpose(0, 3, 1, 2), mat


def make_case(seed, scale):
    g = torch.Generator().manual_seed(seed)
    n, c, h, w = 2, 3, 7, 9
    inp = torch.randn(n, c, h, w, generator=g)
    size_img = (w / scale, h / scale)
    rois = []
    for i in range(10):
        cx = (torch.rand(1, generator=g).item() * 1.4 - 0.2) * size_img[0]
        cy = (torch.rand(1, generator=g).item() * 1.4 - 0.2) * size_img[1]
        bw = torch.rand(1, generator=g).item() * size_img[0] * 0.8
        bh = torch.rand(1, generator=g).item() * size_img[1] * 0.8
        rois.append([i % n, cx - bw / 2, cy - bh / 2, cx + bw / 2,
                     cy + bh / 2])
    # fully inside, partly outside on every side, tiny and zero-sized rois
    rois += [[0, 0., 0., w / scale - 1, h / scale - 1],
             [1, -3. / scale, -2. / scale, 4. / scale, 12. / scale],
             [0, 5. / scale, 3. / scale, 14. / scale, 9. / scale],
             [1, 2.3, 1.7, 2.6, 1.9],
             [0, 3.1, 2.2, 3.1, 2.2],
             [1, -1.4, 4.0, -1.2, 4.3],
             [0, 20., 20., 25., 30.]]
    return inp, torch.tensor(rois, dtype=torch.float32)


CASES = [(aligned, sr, scale) for aligned in (True, False) for sr in (0, 2)
         for scale in (0.5, 1.0)]


@pytest.mark.parametrize('aligned,sampling_ratio,scale', CASES)
def test_roi_align_forward_matches_reference(aligned, sampling_ratio, scale):
    inp, rois = make_case(int(scale * 10) + sampling_ratio, scale)
    out_size = (3, 2)
    expect, _ = ref_roi_align(inp.numpy(), rois.numpy(), out_size, scale,
                              sampling_ratio, aligned)
    got = roi_align(inp, rois, out_size, scale, sampling_ratio, 'avg',
                    aligned)
    assert got.shape == (len(rois), 3, 3, 2) and got.dtype == torch.float32
    np.testing.assert_allclose(got.numpy(), expect, rtol=1e-5, atol=1e-5)
    assert np.abs(expect).sum() > 1  # non-trivial
    # float64: same up to rounding order
    got64 = roi_align(inp.double(), rois.double(), out_size, scale,
                      sampling_ratio, 'avg', aligned)
    np.testing.assert_allclose(got64.numpy(), expect, rtol=1e-10, atol=1e-10)
    # module == function
    mod = RoIAlign(out_size, scale, sampling_ratio, aligned=aligned)
    torch.testing.assert_close(mod(inp, rois), got, rtol=0, atol=0)


@pytest.mark.parametrize('aligned,sampling_ratio,scale', CASES)
def test_roi_align_backward(aligned, sampling_ratio, scale):
    inp, rois = make_case(100 + sampling_ratio, scale)
    out_size = (2, 3)
    x = inp.clone().requires_grad_(True)
    out = roi_align(x, rois, out_size, scale, sampling_ratio, 'avg', aligned)
    g = torch.randn(out.shape, generator=torch.Generator().manual_seed(1))
    (grad, ) = torch.autograd.grad(out, x, g)
    # analytic: grad_input[b, c].flat[k] = sum_rows M[row, k] * g[r, c, row]
    _, mat = ref_roi_align(inp.numpy(), rois.numpy(), out_size, scale,
                           sampling_ratio, aligned)
    n, c, h, w = inp.shape
    g_rows = g.numpy().transpose(0, 2, 3, 1).reshape(-1, c)  # (R*PH*PW, C)
    expect = (mat.T @ g_rows).reshape(n, h, w, c).transpose(0, 3, 1, 2)
    np.testing.assert_allclose(grad.numpy(), expect, rtol=1e-5, atol=1e-5)
    assert np.abs(expect).sum() > 1


@pytest.mark.parametrize('aligned,sampling_ratio', [(True, 0), (False, 2)])
def test_roi_align_gradcheck_float64(aligned, sampling_ratio):
    inp, rois = make_case(7, 0.5)
    x = inp[:, :2].double().requires_grad_(True)
    rois = rois.double()
    assert torch.autograd.gradcheck(
        lambda t: roi_align(t, rois, (2, 2), 0.5, sampling_ratio, 'avg',
                            aligned), (x, ), eps=1e-3, atol=1e-7)
    # the op is linear in its input: central differences are exact
    out = roi_align(x, rois, (2, 2), 0.5, sampling_ratio, 'avg', aligned)
    g = torch.randn(out.shape, dtype=torch.float64,
                    generator=torch.Generator().manual_seed(3))
    (grad, ) = torch.autograd.grad(out, x, g)
    fd = torch.zeros_like(x)
    with torch.no_grad():
        for i in range(x.numel()):
            d = torch.zeros(x.numel(), dtype=torch.float64)
            d[i] = 1.
            d = d.view_as(x)
            fd.view(-1)[i] = (
                (roi_align(x + d, rois, (2, 2), 0.5, sampling_ratio, 'avg',
                           aligned) * g).sum()
                - (roi_align(x - d, rois, (2, 2), 0.5, sampling_ratio, 'avg',
                             aligned) * g).sum()) / 2
    torch.testing.assert_close(grad, fd, rtol=1e-9, atol=1e-9)


def test_roi_align_empty_rois():
    x = torch.randn(1, 2, 5, 5, requires_grad=True)
    out = roi_align(x, torch.zeros(0, 5), (2, 2), 1.0, 0, 'avg', True)
    assert out.shape == (0, 2, 2, 2)
    out.sum().backward()
    assert x.grad is not None and not x.grad.any()


def test_roi_align_max_mode_raises():
    x = torch.randn(1, 2, 5, 5)
    rois = torch.tensor([[0., 0., 0., 3., 3.]])
    with pytest.raises(MMCVOpUnavailableError,
                       match=r"RoIAlign\(pool_mode='max'\)"):
        roi_align(x, rois, (2, 2), 1.0, 0, 'max', True)
    with pytest.raises(MMCVOpUnavailableError, match='compiled mmcv'):
        RoIAlign((2, 2), pool_mode='max')(x, rois)


def test_roi_align_bfloat16_matches_float32():
    """torchvision has no bf16 roi_align kernel: mmcv's RoIAlign under bf16
    autocast (Mask R-CNN with --amp on CPU) must run and equal the float32
    result rounded to bf16, forward and backward."""
    torch.manual_seed(0)
    feat = torch.randn(2, 4, 16, 16)
    rois = torch.tensor([[0, 1.0, 2.0, 9.0, 12.0], [1, 0.5, 0.5, 15.0, 7.0]])
    outs, grads = [], []
    for dtype in (torch.float32, torch.bfloat16):
        x = feat.to(dtype).detach().clone().requires_grad_()
        out = roi_align(x, rois.to(dtype), (3, 3), 0.5, 2, 'avg', True)
        out.float().pow(2).sum().backward()
        assert out.dtype == dtype and x.grad.dtype == dtype
        outs.append(out.float())
        grads.append(x.grad.float())
    torch.testing.assert_close(outs[1], outs[0], atol=0.05, rtol=0.02)
    torch.testing.assert_close(grads[1], grads[0], atol=0.1, rtol=0.05)
