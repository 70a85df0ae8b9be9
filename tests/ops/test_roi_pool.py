"""mmcv.ops.roi_pool / RoIPool on mmequi's backend vs a scalar-loop reference
of mmcv's kernel (roi_pool_cuda_kernel.cuh) written here.
"""
import mmequi  # noqa: F401  (installs the mmcv op backend first)

import math

import numpy as np
import pytest
import torch
from mmcv.ops import RoIPool, roi_pool

from mmequi.ops import roi_pool_backward, roi_pool_forward

F32 = np.float32
NEG_FLT_MAX = -np.finfo(np.float32).max


def ref_roi_pool(inp, rois, out_h, out_w, scale):
    """Returns (output, argmax) like the kernel, starting from the wrapper's
    zero-initialised buffers (malformed rois leave them untouched)."""
    inp = np.asarray(inp, dtype=np.float32)
    n, c, height, width = inp.shape
    out = np.zeros((len(rois), c, out_h, out_w), dtype=np.float32)
    arg = np.zeros((len(rois), c, out_h, out_w), dtype=np.int32)
    s = F32(scale)
    for r, roi in enumerate(np.asarray(rois, dtype=np.float32)):
        b = int(roi[0])
        rx1, ry1 = roi[1] * s, roi[2] * s
        rx2, ry2 = (roi[3] + F32(1)) * s, (roi[4] + F32(1)) * s
        rw, rh = rx2 - rx1, ry2 - ry1
        if rw <= 0 or rh <= 0:
            continue
        bw, bh = rw / F32(out_w), rh / F32(out_h)
        for ph in range(out_h):
            y1 = min(max(math.floor(F32(ph) * bh + ry1), 0), height)
            y2 = min(max(math.ceil(F32(ph + 1) * bh + ry1), 0), height)
            for pw in range(out_w):
                x1 = min(max(math.floor(F32(pw) * bw + rx1), 0), width)
                x2 = min(max(math.ceil(F32(pw + 1) * bw + rx1), 0), width)
                empty = y2 <= y1 or x2 <= x1
                for ch in range(c):
                    best, best_i = (F32(0) if empty else NEG_FLT_MAX), -1
                    for hh in range(y1, y2):
                        for ww in range(x1, x2):
                            v = inp[b, ch, hh, ww]
                            if v > best:
                                best, best_i = v, hh * width + ww
                    out[r, ch, ph, pw] = best
                    arg[r, ch, ph, pw] = best_i
    return out, arg


def ref_backward(grad_out, rois, arg, input_shape):
    grad = np.zeros(input_shape, dtype=np.float64)
    n, c, h, w = input_shape
    for r in range(arg.shape[0]):
        b = int(rois[r][0])
        for ch in range(c):
            for i, a in enumerate(arg[r, ch].reshape(-1)):
                if a != -1:
                    grad[b, ch].reshape(-1)[a] += grad_out[r, ch].reshape(-1)[i]
    return grad


def make_case(seed, scale, ties):
    g = torch.Generator().manual_seed(seed)
    n, c, h, w = 2, 3, 8, 10
    if ties:  # few distinct values: many equal maxima inside a bin
        inp = torch.randint(-2, 3, (n, c, h, w), generator=g).float()
    else:
        inp = torch.randperm(n * c * h * w, generator=g).float().view(
            n, c, h, w) / 7 - 10
    img_w, img_h = w / scale, h / scale
    rois = []
    for i in range(12):
        x1 = (torch.rand(1, generator=g).item() * 1.3 - 0.2) * img_w
        y1 = (torch.rand(1, generator=g).item() * 1.3 - 0.2) * img_h
        bw = torch.rand(1, generator=g).item() * img_w * 0.9
        bh = torch.rand(1, generator=g).item() * img_h * 0.9
        rois.append([i % n, x1, y1, x1 + bw, y1 + bh])
    rois += [
        [0, 0., 0., img_w - 1, img_h - 1],  # whole map
        [1, -5., -3., 3.6, 2.2],  # partly outside
        [0, 2.5, 3.5, 2.5, 3.5],  # single point -> small roi (size scale)
        [1, img_w + 4, 1., img_w + 9, 5.],  # outside: all bins empty
        [0, 4., 4., 2., 6.],  # malformed: x2 + 1 <= x1
        [1, 3., 5., 6., 3.],  # malformed: y2 + 1 <= y1
        [0, 1., 1., 1.5, 30.],  # tall roi, bins of several rows
    ]
    return inp, torch.tensor(rois, dtype=torch.float32)


@pytest.mark.parametrize('scale', [1.0, 0.5, 0.25])
@pytest.mark.parametrize('out_size', [(2, 2), (3, 4), (7, 7)])
@pytest.mark.parametrize('ties', [False, True])
def test_roi_pool_forward_backward(scale, out_size, ties):
    inp, rois = make_case(int(scale * 8) + out_size[1], scale, ties)
    exp_out, exp_arg = ref_roi_pool(inp.numpy(), rois.numpy(), *out_size,
                                    scale)
    x = inp.clone().requires_grad_(True)
    out = roi_pool(x, rois, out_size, scale)
    np.testing.assert_array_equal(out.detach().numpy(), exp_out)  # exact
    assert (exp_arg == -1).any() and (exp_arg >= 0).any()
    # backward == scatter of grad_output to the reference argmax (the
    # malformed rois route their gradient to position 0, as in mmcv)
    g = torch.randn(out.shape, generator=torch.Generator().manual_seed(0))
    (grad, ) = torch.autograd.grad(out, x, g)
    np.testing.assert_allclose(
        grad.numpy(),
        ref_backward(g.numpy(), rois.numpy(), exp_arg, inp.shape),
        rtol=1e-5, atol=1e-5)  # float32 accumulation vs float64
    # module == function
    torch.testing.assert_close(
        RoIPool(out_size, scale)(inp, rois), out.detach(), rtol=0, atol=0)


def test_roi_pool_kernel_argmax_direct():
    inp, rois = make_case(3, 0.5, ties=True)
    out_size = (3, 3)
    exp_out, exp_arg = ref_roi_pool(inp.numpy(), rois.numpy(), *out_size,
                                    0.5)
    out = torch.zeros(len(rois), 3, *out_size)
    arg = torch.zeros(len(rois), 3, *out_size, dtype=torch.int)
    roi_pool_forward(inp, rois, out, arg, pooled_height=3, pooled_width=3,
                     spatial_scale=0.5)
    np.testing.assert_array_equal(out.numpy(), exp_out)
    np.testing.assert_array_equal(arg.numpy(), exp_arg)
    assert arg.dtype == torch.int32
    # malformed rois leave the buffers untouched (not just zero)
    out.fill_(5.)
    arg.fill_(7)
    roi_pool_forward(inp, rois, out, arg, pooled_height=3, pooled_width=3,
                     spatial_scale=0.5)
    assert (out[-3:-1] == 5.).all() and (arg[-3:-1] == 7).all()
    keep = [i for i in range(len(rois)) if i not in (len(rois) - 3,
                                                     len(rois) - 2)]
    np.testing.assert_array_equal(arg[keep].numpy(), exp_arg[keep])
    np.testing.assert_array_equal(out[keep].numpy(), exp_out[keep])
    # backward accumulates into grad_input
    grad_in = torch.ones_like(inp)
    g = torch.rand(out.shape)
    roi_pool_backward(g, rois, torch.from_numpy(exp_arg), grad_in,
                      pooled_height=3, pooled_width=3, spatial_scale=0.5)
    np.testing.assert_allclose(
        grad_in.numpy(),
        1 + ref_backward(g.numpy(), rois.numpy(), exp_arg, inp.shape),
        rtol=1e-6)


def test_roi_pool_special_values():
    """-inf/NaN never win (strict '>' against -FLT_MAX); a non-empty bin of
    only -inf gives -FLT_MAX with argmax -1."""
    inp = torch.zeros(1, 1, 2, 4)
    inp[0, 0, :, :2] = float('-inf')
    inp[0, 0, 0, 2] = float('nan')
    inp[0, 0, 1, 3] = 3.
    rois = torch.tensor([[0., 0., 0., 3., 1.]])
    out = torch.zeros(1, 1, 1, 2)
    arg = torch.zeros(1, 1, 1, 2, dtype=torch.int)
    roi_pool_forward(inp, rois, out, arg, pooled_height=1, pooled_width=2,
                     spatial_scale=1.0)
    exp_out, exp_arg = ref_roi_pool(inp.numpy(), rois.numpy(), 1, 2, 1.0)
    np.testing.assert_array_equal(out.numpy(), exp_out)
    np.testing.assert_array_equal(arg.numpy(), exp_arg)
    assert out[0, 0, 0, 0] == NEG_FLT_MAX and arg[0, 0, 0, 0] == -1
    assert out[0, 0, 0, 1] == 3. and arg[0, 0, 0, 1] == 7


def test_roi_pool_gradcheck_distinct_values():
    inp, rois = make_case(5, 0.5, ties=False)
    rois = rois[:-3]  # drop malformed rois (their mmcv gradient is not d/dx)
    x = inp[:, :1].double().requires_grad_(True)
    assert torch.autograd.gradcheck(
        lambda t: roi_pool(t, rois.double(), (3, 3), 0.5), (x, ), eps=1e-4,
        atol=1e-6)


def test_roi_pool_chunked_equals_unchunked(monkeypatch):
    import mmequi.ops.roi_pool as mod
    inp, rois = make_case(9, 1.0, ties=True)
    full = roi_pool(inp, rois, (3, 3), 1.0)
    monkeypatch.setattr(mod, '_CHUNK_ELEMS', 1)  # one roi per chunk
    torch.testing.assert_close(roi_pool(inp, rois, (3, 3), 1.0), full,
                               rtol=0, atol=0)


def test_roi_pool_empty():
    x = torch.randn(1, 2, 5, 5, requires_grad=True)
    out = roi_pool(x, torch.zeros(0, 5), (2, 2), 1.0)
    assert out.shape == (0, 2, 2, 2)
    out.sum().backward()
    assert not x.grad.any()
