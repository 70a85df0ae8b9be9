"""mmcv.ops.sigmoid_focal_loss on mmequi's backend vs a per-element loop of
the CUDA kernel's formula (sigmoid_focal_loss_cuda_kernel.cuh) written here.
"""
import mmequi  # noqa: F401  (installs the mmcv op backend first)

import math

import numpy as np
import pytest
import torch
from mmcv.ops import SigmoidFocalLoss, sigmoid_focal_loss

FLT_MIN = float(np.finfo(np.float32).tiny)


def ref_loss(x, target, gamma, alpha, weight=None):
    """(N, C) unreduced loss, one element at a time (float64)."""
    x = np.asarray(x, dtype=np.float64)
    out = np.zeros_like(x)
    for n in range(x.shape[0]):
        t = int(target[n])
        for c in range(x.shape[1]):
            p = 1. / (1. + math.exp(-x[n, c]))
            if t == c:
                v = -alpha * (1 - p)**gamma * math.log(max(p, FLT_MIN))
            else:
                v = -(1 - alpha) * p**gamma * math.log(max(1 - p, FLT_MIN))
            if weight is not None:
                v *= float(weight[t])
            out[n, c] = v
    return out


def naive_torch(x, target, gamma, alpha, weight=None):
    """Differentiable textbook formula (no clamps) for autograd."""
    p = torch.sigmoid(x)
    pos = torch.nn.functional.one_hot(target, x.size(1) + 1)[:, :-1].to(x)
    loss = -(alpha * pos * (1 - p)**gamma * torch.log(p)
             + (1 - alpha) * (1 - pos) * p**gamma * torch.log(1 - p))
    if weight is not None:
        loss = loss * weight[target.clamp(max=x.size(1) - 1)][:, None]
    return loss


def make(seed, n=12, c=5, background=True):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, c, generator=g) * 3
    x[0, 0], x[1, 1], x[2, 2] = 40., -40., -100.  # saturated sigmoids
    hi = c + 1 if background else c  # target == c: background
    target = torch.randint(0, hi, (n, ), generator=g)
    target[:3] = torch.tensor([0, 1, 2])
    weight = torch.rand(c, generator=g) + 0.5
    return x, target, weight


@pytest.mark.parametrize('gamma,alpha', [(2.0, 0.25), (1.5, 0.5), (0., 0.75)])
@pytest.mark.parametrize('use_weight', [False, True])
def test_forward_matches_loop(gamma, alpha, use_weight):
    x, target, weight = make(0, background=not use_weight)
    w = weight if use_weight else None
    ref = ref_loss(x.numpy(), target.numpy(), gamma, alpha,
                   w.numpy() if use_weight else None)
    for reduction, expect in (('none', ref), ('sum', ref.sum()),
                              ('mean', ref.sum() / x.size(0))):
        got = sigmoid_focal_loss(x, target, gamma, alpha, w, reduction)
        np.testing.assert_allclose(got.numpy(), expect, rtol=1e-5, atol=1e-6)
        got64 = sigmoid_focal_loss(x.double(), target, gamma, alpha,
                                   None if w is None else w.double(),
                                   reduction)
        np.testing.assert_allclose(got64.numpy(), expect, rtol=1e-10)
    assert (target == x.size(1)).any() != use_weight
    # module
    mod = SigmoidFocalLoss(gamma, alpha, w, 'sum')
    np.testing.assert_allclose(mod(x, target).item(), ref.sum(), rtol=1e-5)


@pytest.mark.parametrize('reduction', ['none', 'mean', 'sum'])
@pytest.mark.parametrize('use_weight', [False, True])
def test_gradcheck_float64(reduction, use_weight):
    x, target, weight = make(1, n=6, c=4, background=not use_weight)
    x = (x.clamp(-6, 6)).double().requires_grad_(True)  # away from clamps
    w = weight.double() if use_weight else None
    assert torch.autograd.gradcheck(
        lambda t: sigmoid_focal_loss(t, target, 2.0, 0.25, w, reduction),
        (x, ))


@pytest.mark.parametrize('reduction', ['none', 'mean', 'sum'])
@pytest.mark.parametrize('use_weight', [False, True])
def test_grad_matches_naive_autograd(reduction, use_weight):
    x, target, weight = make(2, background=not use_weight)
    x = x.clamp(-10, 10).double()
    w = weight.double() if use_weight else None
    g_out = torch.rand(x.shape, dtype=torch.float64,
                       generator=torch.Generator().manual_seed(0))
    for gamma, alpha in ((2.0, 0.25), (1.5, 0.5)):
        a = x.clone().requires_grad_(True)
        out = sigmoid_focal_loss(a, target, gamma, alpha, w, reduction)
        b = x.clone().requires_grad_(True)
        ref = naive_torch(b, target, gamma, alpha, w)
        ref = {'none': ref, 'sum': ref.sum(),
               'mean': ref.sum() / x.size(0)}[reduction]
        torch.testing.assert_close(out, ref, rtol=1e-9, atol=1e-12)
        go = g_out if reduction == 'none' else g_out[0, 0]
        (ga, ) = torch.autograd.grad(out, a, go)
        (gb, ) = torch.autograd.grad(ref, b, go)
        torch.testing.assert_close(ga, gb, rtol=1e-8, atol=1e-12)
        assert ga.abs().sum() > 0.1


def test_saturated_inputs_are_finite():
    x = torch.tensor([[100., -100., 0.], [-100., 100., 0.]])
    target = torch.tensor([0, 3])
    xr = x.clone().requires_grad_(True)
    out = sigmoid_focal_loss(xr, target, 2.0, 0.25, None, 'none')
    out.sum().backward()
    assert torch.isfinite(out).all() and torch.isfinite(xr.grad).all()
    np.testing.assert_allclose(
        out.detach().numpy(), ref_loss(x.numpy(), target.numpy(), 2.0, 0.25),
        rtol=1e-5, atol=1e-6)


def test_weight_with_background_target_raises():
    x, target, weight = make(3, background=True)
    assert (target == x.size(1)).any()
    with pytest.raises(ValueError, match='out of bounds'):
        sigmoid_focal_loss(x, target, 2.0, 0.25, weight, 'mean')
