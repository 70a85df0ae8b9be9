"""SIELoss against a naive float64 computation (loops for the variance
hinge, torch.cov for the covariance), autocast, and the 2-rank (gloo)
equality of the gathered variance / covariance with the single-process
values on the concatenated batch."""
import math

import mmequi  # noqa: F401  (registries)
import pytest
import torch
from mmpretrain.registry import MODELS

from mmequi.models.losses import SIELoss

from ...gloo_ranks import run_on_gloo_ranks

TERMS = ('loss_inv', 'loss_equi', 'loss_var', 'loss_cov')
WORLD, B_LOCAL = 2, 4


def _inputs(B=8, Di=5, De=4, seed=0, dtype=torch.float64):
    """u1, u2 (B, Di), e1, e2, p2 (B, De); per-dimension scales around γ=1
    so that the variance hinge is active for some dimensions only."""
    g = torch.Generator().manual_seed(seed)

    def emb(d):
        scale = torch.linspace(0.2, 2.0, d, dtype=torch.float64)
        z = torch.randn(B, d, generator=g, dtype=torch.float64) * scale
        z[:, -1] += 0.6 * z[:, 0]  # correlated dims
        return z

    u1, e1 = emb(Di), emb(De)
    u2 = u1 + 0.4 * torch.randn(B, Di, generator=g, dtype=torch.float64)
    e2 = emb(De)
    p2 = e2 + 0.3 * torch.randn(B, De, generator=g, dtype=torch.float64)
    return [t.to(dtype) for t in (u1, u2, e1, e2, p2)]


def _v(z, gamma, eps):
    """Variance hinge by loops over dimensions and samples."""
    n, d = z.shape
    total = 0.0
    for j in range(d):
        col = [float(z[b, j]) for b in range(n)]
        m = sum(col) / n
        var = sum((c - m)**2 for c in col) / (n - 1)
        total += max(0.0, gamma - math.sqrt(var + eps))
    return total / d


def _c(z):
    """Off-diagonal covariance energy with torch.cov (unbiased)."""
    cov = torch.cov(z.double().T)  # (D, D)
    d = cov.shape[0]
    off = cov - torch.diag(torch.diagonal(cov))
    return float(off.square().sum()) / d


def _mse(a, b):
    a, b = a.double(), b.double()
    n, d = a.shape
    return sum(float(a[i, j] - b[i, j])**2 for i in range(n)
               for j in range(d)) / (n * d)


def _naive(u1, u2, e1, e2, p2, li=25.0, le=25.0, lv=25.0, lc=1.0,
           gamma=1.0, eps=1e-4, var_on_pred=True):
    var = (_v(u1, gamma, eps) + _v(u2, gamma, eps)) / 2 + \
        (_v(e1, gamma, eps) + _v(e2, gamma, eps)) / 2
    if var_on_pred:
        var += _v(p2, gamma, eps)
    return dict(loss_inv=li * _mse(u1, u2), loss_equi=le * _mse(p2, e2),
                loss_var=lv * var,
                loss_cov=lc * (_c(u1) + _c(u2) + _c(e1) + _c(e2)))


def test_matches_naive_float64():
    zs = _inputs()
    out = SIELoss()(*zs)
    ref = _naive(*zs)
    assert set(out) == set(TERMS)
    assert ref['loss_var'] > 0 and ref['loss_cov'] > 0  # active terms
    for k in TERMS:
        assert out[k].dtype == torch.float64
        assert out[k].item() == pytest.approx(ref[k], rel=1e-9), k


def test_coefficients_and_no_var_on_pred():
    zs = _inputs(B=6, Di=3, De=5, seed=1, dtype=torch.float32)
    cfg = dict(inv_coeff=2.0, equi_coeff=3.0, std_coeff=0.5, cov_coeff=4.0,
               gamma=1.5, eps=1e-3)
    for var_on_pred in (True, False):
        loss = MODELS.build(dict(type='SIELoss', var_on_pred=var_on_pred,
                                 **cfg))
        assert isinstance(loss, SIELoss)
        out = loss(*zs)
        ref = _naive(*zs, 2.0, 3.0, 0.5, 4.0, 1.5, 1e-3, var_on_pred)
        for k in TERMS:
            assert out[k].dtype == torch.float32
            assert out[k].item() == pytest.approx(ref[k], rel=1e-5), k
    # the prediction's variance term is exactly the difference
    on = SIELoss(var_on_pred=True)(*zs)['loss_var']
    off = SIELoss(var_on_pred=False)(*zs)['loss_var']
    assert (on - off).item() == pytest.approx(25 * _v(zs[4], 1.0, 1e-4),
                                              rel=1e-5)


def test_prediction_only_enters_equi_and_var():
    zs = [z.requires_grad_(True) for z in _inputs(seed=2)]
    out = SIELoss()(*zs)
    for k, touched in (('loss_inv', (0, 1)), ('loss_equi', (3, 4)),
                       ('loss_cov', (0, 1, 2, 3)),
                       ('loss_var', (0, 1, 2, 3, 4))):
        grads = torch.autograd.grad(out[k], zs, retain_graph=True,
                                    allow_unused=True)
        for i, gr in enumerate(grads):
            nonzero = gr is not None and gr.abs().sum() > 0
            assert nonzero == (i in touched), (k, i)


def test_fp32_under_autocast_with_bf16_inputs():
    zs = _inputs(seed=3, dtype=torch.bfloat16)
    ref = _naive(*zs)  # exact values of the bf16 inputs
    with torch.autocast(device_type='cpu', dtype=torch.bfloat16):
        out = SIELoss()(*zs)
    for k in TERMS:
        assert out[k].dtype == torch.float32
        assert out[k].item() == pytest.approx(ref[k], rel=1e-5), k


def test_gradcheck_float64():
    zs = [z.requires_grad_(True) for z in _inputs(B=4, Di=3, De=2, seed=4)]
    loss = SIELoss()
    assert torch.autograd.gradcheck(lambda *a: sum(loss(*a).values()),
                                    tuple(zs))


def test_shape_errors():
    loss = SIELoss()
    ok = torch.zeros(4, 3)
    with pytest.raises(ValueError, match='inv1 and inv2'):
        loss(ok, torch.zeros(4, 2), ok, ok, ok)
    with pytest.raises(ValueError, match='equi1, equi2 and pred2'):
        loss(ok, ok, ok, ok, torch.zeros(4, 2))
    with pytest.raises(ValueError, match='one batch size'):
        loss(ok, ok, torch.zeros(3, 3), torch.zeros(3, 3),
             torch.zeros(3, 3))
    one = torch.zeros(1, 3)
    with pytest.raises(ValueError, match='at least 2'):
        loss(one, one, one, one, one)


# --------------------------------------------------------------------------
# 2 ranks (gloo): gathered var / cov equal the single-process values
# --------------------------------------------------------------------------
def _rank_result(rank: int) -> dict:
    """Loss terms and input gradients of this rank's slice."""
    zs = _inputs(B=WORLD * B_LOCAL, seed=5)
    sl = slice(rank * B_LOCAL, (rank + 1) * B_LOCAL)
    local = [z[sl].clone().requires_grad_(True) for z in zs]
    out = SIELoss()(*local)
    total = sum(out.values())
    grads = torch.autograd.grad(total, local)
    return dict(values={k: v.detach() for k, v in out.items()}, grads=grads)


def test_two_ranks_gloo_match_single_process(tmp_path):
    ranks = run_on_gloo_ranks(_rank_result, WORLD, tmp_path)
    zs = [z.requires_grad_(True)
          for z in _inputs(B=WORLD * B_LOCAL, seed=5)]
    single = SIELoss()(*zs)
    tol = dict(rtol=1e-10, atol=1e-12)
    for k in ('loss_var', 'loss_cov'):
        for r in ranks:
            torch.testing.assert_close(r['values'][k], single[k].detach(),
                                       **tol)
    for k in ('loss_inv', 'loss_equi'):  # local means; their mean is global
        mean = sum(r['values'][k] for r in ranks) / WORLD
        torch.testing.assert_close(mean, single[k].detach(), **tol)
    # per-sample gradients of each rank's loss: W x the single-process ones
    sp_grads = torch.autograd.grad(sum(single.values()), zs)
    for i, sp in enumerate(sp_grads):
        got = torch.cat([r['grads'][i] for r in ranks])
        torch.testing.assert_close(got, WORLD * sp, **tol)
