"""Sinkhorn-Knopp teacher normalisation (SwAV / DINOv2) against a naive
loop of the published iteration, its row/column properties, and 2 gloo
ranks against one process on the concatenated batch."""
import torch
import pytest

from mmequi.models.losses import sinkhorn_knopp

from ...gloo_ranks import run_on_gloo_ranks


def _naive(logits, temp, iters=3):
    """The published iteration with every scale factor, Python loops,
    float64: Q = exp(T/τ)ᵀ / ΣQ; n × (rows /= row sum, /= K; columns /=
    column sum, /= B); B·Q, transposed back to (B, K)."""
    t = logits.double().tolist()
    B, K = len(t), len(t[0])
    q = [[torch.tensor(t[b][k] / temp).exp().item() for b in range(B)]
         for k in range(K)]  # K x B
    total = sum(map(sum, q))
    q = [[v / total for v in row] for row in q]
    for _ in range(iters):
        for k in range(K):
            s = sum(q[k])
            q[k] = [v / s / K for v in q[k]]
        for b in range(B):
            s = sum(q[k][b] for k in range(K))
            for k in range(K):
                q[k][b] = q[k][b] / s / B
    return torch.tensor([[q[k][b] * B for k in range(K)] for b in range(B)],
                        dtype=torch.float64)


@pytest.mark.parametrize('B,K,temp', [(4, 3, 0.1), (6, 10, 0.04),
                                      (5, 2, 0.07)])
def test_against_naive_loop(B, K, temp):
    logits = torch.randn(B, K, generator=torch.Generator().manual_seed(B))
    out = sinkhorn_knopp(logits, temp)
    torch.testing.assert_close(out.double(), _naive(logits, temp),
                               rtol=1e-5, atol=1e-6)


def test_row_and_column_sums():
    logits = torch.randn(64, 16, generator=torch.Generator().manual_seed(0))
    out = sinkhorn_knopp(logits, 0.5, num_iters=3)
    torch.testing.assert_close(out.sum(1), torch.ones(64))
    # columns approach B/K; many iterations reach it
    many = sinkhorn_knopp(logits, 0.5, num_iters=200)
    torch.testing.assert_close(many.sum(0), torch.full((16,), 4.0),
                               rtol=1e-3, atol=1e-3)
    assert (out.sum(0) - 4).abs().max() < (
        torch.softmax(logits / 0.5, -1).sum(0) - 4).abs().max()


def test_no_overflow_at_small_temperature():
    logits = torch.tensor([[50.0, 0.0], [0.0, 50.0]])
    out = sinkhorn_knopp(logits, 0.04)
    assert torch.isfinite(out).all()
    torch.testing.assert_close(out, torch.eye(2))


def test_single_row_is_uniform():
    # B = 1: the column step makes every entry equal
    out = sinkhorn_knopp(torch.tensor([[3.0, -1.0, 0.5]]), 0.1)
    torch.testing.assert_close(out, torch.full((1, 3), 1 / 3))


_LOGITS = torch.randn(7, 5, generator=torch.Generator().manual_seed(3))
_SPLIT = (5, 2)  # uneven rows per rank (masked patch counts differ)


def _rank_sk(rank):
    return sinkhorn_knopp(_LOGITS.split(_SPLIT)[rank], 0.07)


def test_two_gloo_ranks_equal_one_process(tmp_path):
    outs = run_on_gloo_ranks(_rank_sk, 2, tmp_path)
    torch.testing.assert_close(torch.cat(outs), sinkhorn_knopp(_LOGITS, 0.07))
