"""InfoNCELoss (SimCLR's NT-Xent) against a per-pair loop of the published
formula (Chen et al., ICML 2020, Eq. 1), a hand-computed 2-image case,
gradcheck, and 2 ranks (gloo) against one process on the whole batch:

  * mean_r L_r == the single-process loss on the concatenated batch;
  * ∂L_r/∂x_r (after the gather's all-reduce) == W · ∂L_sp/∂x_r, so DDP's
    average of the ranks' gradients of a shared linear map == single.
"""
import math

import mmequi  # noqa: F401  (compat layer + registries)
import pytest
import torch
from mmpretrain.registry import MODELS

from mmequi.models.losses import InfoNCELoss

from ...gloo_ranks import run_on_gloo_ranks

WORLD, B_LOCAL, D_IN, D = 2, 3, 4, 5


def _naive(x, y, tau):
    """Per-pair loop in float64 Python: the 2M vectors u = x_1..x_M,
    y_1..y_M; l(i, j) = −log exp(s_ij/τ) / Σ_{k≠i} exp(s_ik/τ); the mean of
    l(x_m, y_m) and l(y_m, x_m) over m."""
    u = [v.tolist() for v in torch.cat([x, y]).double()]
    m = x.shape[0]

    def cos(a, b):
        dot = sum(p * q for p, q in zip(a, b))
        return dot / math.sqrt(sum(p * p for p in a) * sum(q * q for q in b))

    def ell(i, j):
        den = sum(math.exp(cos(u[i], u[k]) / tau)
                  for k in range(2 * m) if k != i)
        return -math.log(math.exp(cos(u[i], u[j]) / tau) / den)

    return sum(ell(k, k + m) + ell(k + m, k) for k in range(m)) / (2 * m)


def _embeddings(B, D, seed=0, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(B, D, generator=g, dtype=torch.float64)
    y = x + 0.7 * torch.randn(B, D, generator=g, dtype=torch.float64)
    return x.to(dtype), y.to(dtype)


@pytest.mark.parametrize('tau', [0.1, 0.5, 1.0])
def test_matches_per_pair_loop(tau):
    x, y = _embeddings(6, 4)
    out = InfoNCELoss(temperature=tau)(x, y)['loss_infonce']
    assert out.dtype == torch.float64
    assert out.item() == pytest.approx(_naive(x, y, tau), rel=1e-10)


def test_hand_computed_two_images():
    # x1 = y1 = (1, 0); x2 = (0, 1), y2 = (−1, 0); τ = 1, a = e^−1:
    #   l(x1, y1) = l(y1, x1) = −log e/(e + 1 + e^−1) = log(1 + a + a²)
    #   l(x2, y2) = −log 1/(1 + 1 + 1)                = log 3
    #   l(y2, x2) = −log 1/(1 + e^−1 + e^−1)          = log(1 + 2a)
    x = torch.tensor([[1., 0.], [0., 1.]], dtype=torch.float64)
    y = torch.tensor([[1., 0.], [-1., 0.]], dtype=torch.float64)
    a = math.exp(-1)
    expected = (2 * math.log(1 + a + a * a) + math.log(3)
                + math.log(1 + 2 * a)) / 4
    loss = MODELS.build(dict(type='InfoNCELoss', temperature=1.0,
                             loss_weight=2.0))
    assert isinstance(loss, InfoNCELoss)
    assert loss(x, y)['loss_infonce'].item() == pytest.approx(2 * expected,
                                                              rel=1e-12)
    # the scale of the embeddings does not matter (cosine similarity)
    assert loss(3 * x, 0.5 * y)['loss_infonce'].item() == pytest.approx(
        2 * expected, rel=1e-12)


def test_fp32_under_autocast_with_bf16_inputs():
    x, y = _embeddings(5, 3, seed=2, dtype=torch.bfloat16)
    with torch.autocast(device_type='cpu', dtype=torch.bfloat16):
        out = InfoNCELoss()(x, y)['loss_infonce']
    assert out.dtype == torch.float32
    assert out.item() == pytest.approx(_naive(x, y, 0.1), rel=1e-5)


def test_gradcheck_float64():
    x, y = _embeddings(4, 3, seed=3)
    x.requires_grad_(True)
    y.requires_grad_(True)
    loss = InfoNCELoss(temperature=0.3)
    assert torch.autograd.gradcheck(
        lambda a, b: loss(a, b)['loss_infonce'], (x, y))


def test_errors():
    loss = InfoNCELoss()
    with pytest.raises(ValueError, match='one shape'):
        loss(torch.zeros(4, 3), torch.zeros(4, 2))
    with pytest.raises(ValueError, match=r'\(B, D\)'):
        loss(torch.zeros(4, 3, 1), torch.zeros(4, 3, 1))
    with pytest.raises(ValueError, match='at least 2'):
        loss(torch.ones(1, 3), torch.ones(1, 3))
    with pytest.raises(ValueError, match='temperature must be > 0'):
        InfoNCELoss(temperature=0.0)


# --------------------------------------------------------------------------
# 2 ranks (gloo)
# --------------------------------------------------------------------------
def _global_inputs():
    g = torch.Generator().manual_seed(7)
    feats = torch.randn(WORLD * B_LOCAL, D_IN, generator=g,
                        dtype=torch.float64)
    feats2 = feats + 0.3 * torch.randn(WORLD * B_LOCAL, D_IN, generator=g,
                                       dtype=torch.float64)
    weight = torch.randn(D_IN, D, generator=g, dtype=torch.float64)
    return feats, feats2, weight


def _value_and_grads(feats, feats2, weight):
    """The loss and d/dx, d/dy, d/dweight of the shared linear 'encoder'
    x = feats @ weight."""
    weight = weight.clone().requires_grad_(True)
    x, y = feats @ weight, feats2 @ weight  # (B, D)
    out = InfoNCELoss(temperature=0.2)(x, y)['loss_infonce']
    gx, gy, gw = torch.autograd.grad(out, (x, y, weight))
    return dict(value=out.detach(), gx=gx, gy=gy, gw=gw)


def _rank_result(rank: int) -> dict:
    """Loss and gradients of this rank's slice of the global batch."""
    feats, feats2, weight = _global_inputs()
    sl = slice(rank * B_LOCAL, (rank + 1) * B_LOCAL)
    return _value_and_grads(feats[sl], feats2[sl], weight)


def test_two_ranks_gloo_match_single_process(tmp_path):
    ranks = run_on_gloo_ranks(_rank_result, WORLD, tmp_path)
    single = _value_and_grads(*_global_inputs())
    feats, feats2, weight = _global_inputs()
    assert single['value'].item() == pytest.approx(
        _naive(feats @ weight, feats2 @ weight, 0.2), rel=1e-10)
    tol = dict(rtol=1e-10, atol=1e-12)
    # each rank's anchors see all 2·W·B vectors: the ranks' mean is global
    assert not torch.allclose(ranks[0]['value'], ranks[1]['value'])
    torch.testing.assert_close(sum(r['value'] for r in ranks) / WORLD,
                               single['value'], **tol)
    for g in ('gx', 'gy'):
        torch.testing.assert_close(torch.cat([r[g] for r in ranks]),
                                   WORLD * single[g], **tol)
    torch.testing.assert_close(sum(r['gw'] for r in ranks) / WORLD,
                               single['gw'], **tol)
