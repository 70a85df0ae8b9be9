"""VICRegLoss against a naive float64 implementation, gradcheck, and the
2-rank (gloo) behaviour of the gathered variance / covariance terms.

Distributed relation tested (W ranks, equal local batches, x = cat_r x_r):
  * loss_var, loss_cov on every rank == the single-process values on x;
  * mean_r loss_inv_r == single-process loss_inv on x;
  * for each term T, ∂T_r/∂x_r (after FullGather's all-reduce) equals
    W · ∂T_sp/∂x_r, so for parameters θ shared by the ranks (a linear map
    here) Σ_r ∂L_r/∂θ = W · ∂L_sp/∂θ, i.e. DDP's gradient average
    (1/W) Σ_r ∂L_r/∂θ is exactly the single-process gradient.
"""
import mmequi  # noqa: F401  (compat layer + registries)
import numpy as np
import pytest
import torch
from mmpretrain.registry import MODELS

from mmequi.models.losses.vicreg_loss import VICRegLoss

from ...gloo_ranks import run_on_gloo_ranks

TERMS = ('loss_inv', 'loss_var', 'loss_cov')
WORLD, B_LOCAL, D_IN, D = 2, 5, 4, 6


def _embeddings(B, D, seed=0, dtype=torch.float64):
    """Per-dimension scales below and above γ = 1 so the hinge is active
    for some dimensions only; correlated dimensions for the covariance."""
    g = torch.Generator().manual_seed(seed)
    scale = torch.linspace(0.2, 2.5, D, dtype=torch.float64)
    x = torch.randn(B, D, generator=g, dtype=torch.float64) * scale
    x[:, -1] += 0.7 * x[:, 0]
    y = x + 0.5 * torch.randn(B, D, generator=g, dtype=torch.float64)
    return x.to(dtype), y.to(dtype)


def _naive(x, y, lam=25.0, mu=25.0, nu=1.0, gamma=1.0, eps=1e-4):
    """Loops over dimensions in float64 numpy."""
    x = x.detach().double().numpy()
    y = y.detach().double().numpy()
    n, d = x.shape
    inv = float(np.mean((x - y)**2))

    def var_term(z):
        total = 0.0
        for j in range(d):
            m = sum(z[:, j]) / n
            var = sum((z[b, j] - m)**2 for b in range(n)) / (n - 1)
            total += max(0.0, gamma - np.sqrt(var + eps))
        return total / d

    def cov_term(z):
        m = z.mean(axis=0)
        total = 0.0
        for i in range(d):
            for j in range(d):
                if i != j:
                    c = sum((z[b, i] - m[i]) * (z[b, j] - m[j])
                            for b in range(n)) / (n - 1)
                    total += c**2
        return total / d

    return dict(loss_inv=lam * inv,
                # averaged over the two branches as the official code
                loss_var=mu * (var_term(x) + var_term(y)) / 2,
                loss_cov=nu * (cov_term(x) + cov_term(y)))


def test_matches_naive_float64():
    x, y = _embeddings(8, 5)
    out = VICRegLoss()(x, y)
    ref = _naive(x, y)
    assert ref['loss_var'] > 0 and ref['loss_cov'] > 0  # hinge active
    for k in TERMS:
        assert out[k].dtype == torch.float64
        assert out[k].item() == pytest.approx(ref[k], rel=1e-6, abs=1e-12)


def test_coefficients_and_float32():
    x, y = _embeddings(7, 4, seed=1)
    loss = MODELS.build(dict(type='VICRegLoss', sim_coeff=2.0, std_coeff=3.0,
                             cov_coeff=0.5, gamma=1.5, eps=1e-3))
    assert isinstance(loss, VICRegLoss)
    out = loss(x.float(), y.float())
    ref = _naive(x.float(), y.float(), 2.0, 3.0, 0.5, 1.5, 1e-3)
    for k in TERMS:
        assert out[k].dtype == torch.float32
        assert out[k].item() == pytest.approx(ref[k], rel=1e-5)


def test_fp32_under_autocast_with_bf16_inputs():
    x, y = _embeddings(8, 5, seed=2, dtype=torch.bfloat16)
    ref = _naive(x, y)  # exact values of the bf16 inputs
    with torch.autocast(device_type='cpu', dtype=torch.bfloat16):
        out = VICRegLoss()(x, y)
    for k in TERMS:
        assert out[k].dtype == torch.float32
        assert out[k].item() == pytest.approx(ref[k], rel=1e-5)


def test_gradcheck_float64():
    x, y = _embeddings(4, 3, seed=3)
    x.requires_grad_(True)
    y.requires_grad_(True)
    loss = VICRegLoss()

    def total(a, b):
        return sum(loss(a, b).values())

    assert torch.autograd.gradcheck(total, (x, y))
    for k in TERMS:
        assert torch.autograd.gradcheck(lambda a, b: loss(a, b)[k], (x, y))


def test_shape_errors():
    loss = VICRegLoss()
    with pytest.raises(ValueError, match='one shape'):
        loss(torch.zeros(4, 3), torch.zeros(4, 2))
    with pytest.raises(ValueError, match=r'\(B, D\)'):
        loss(torch.zeros(4, 3, 1), torch.zeros(4, 3, 1))
    with pytest.raises(ValueError, match='at least 2'):
        loss(torch.zeros(1, 3), torch.zeros(1, 3))


# --------------------------------------------------------------------------
# 2 ranks (gloo)
# --------------------------------------------------------------------------
def _global_inputs():
    g = torch.Generator().manual_seed(7)
    feats = torch.randn(WORLD * B_LOCAL, D_IN, generator=g,
                        dtype=torch.float64)
    feats2 = feats + 0.3 * torch.randn(
        WORLD * B_LOCAL, D_IN, generator=g, dtype=torch.float64)
    weight = torch.randn(D_IN, D, generator=g, dtype=torch.float64) * 0.6
    return feats, feats2, weight


def _term_grads(feats, feats2, weight):
    """Loss terms and, for each, d/dx, d/dy and d/dweight of the shared
    linear 'encoder' x = feats @ weight."""
    weight = weight.clone().requires_grad_(True)
    x, y = feats @ weight, feats2 @ weight  # (B, D)
    out = VICRegLoss()(x, y)
    res = {}
    for k in TERMS:  # same order on every rank (collective backward)
        gx, gy, gw = torch.autograd.grad(out[k], (x, y, weight),
                                         retain_graph=True)
        res[k] = dict(value=out[k].detach(), gx=gx, gy=gy, gw=gw)
    return res


def _rank_result(rank: int) -> dict:
    """Loss terms and gradients of this rank's slice of the global batch."""
    feats, feats2, weight = _global_inputs()
    sl = slice(rank * B_LOCAL, (rank + 1) * B_LOCAL)
    return _term_grads(feats[sl], feats2[sl], weight)


def test_two_ranks_gloo_match_single_process(tmp_path):
    ranks = run_on_gloo_ranks(_rank_result, WORLD, tmp_path)
    single = _term_grads(*_global_inputs())
    tol = dict(rtol=1e-10, atol=1e-12)
    for k in TERMS:
        sp = single[k]
        if k == 'loss_inv':  # local MSE: the mean over ranks is global
            value = sum(r[k]['value'] for r in ranks) / WORLD
            assert not torch.allclose(ranks[0][k]['value'],
                                      ranks[1][k]['value'])
        else:  # gathered statistics: identical on every rank
            for r in ranks:
                torch.testing.assert_close(r[k]['value'], sp['value'], **tol)
            value = ranks[0][k]['value']
        torch.testing.assert_close(value, sp['value'], **tol)
        # per-sample gradients: each rank's local slice is W x single
        for g in ('gx', 'gy'):
            torch.testing.assert_close(
                torch.cat([r[k][g] for r in ranks]), WORLD * sp[g], **tol)
        # shared parameters: DDP's average over ranks == single process
        torch.testing.assert_close(
            sum(r[k]['gw'] for r in ranks) / WORLD, sp['gw'], **tol)
