"""Sinkhorn-Knopp normalisation of teacher logits (SwAV / DINOv2).

Caron et al., "Unsupervised Learning of Visual Features by Contrasting
Cluster Assignments" (SwAV), NeurIPS 2020, Sec. 3.1; DINOv2 (Oquab et al.,
TMLR 2024, Sec. 5) uses it with 3 iterations in place of the teacher's
centring. For logits T (B, K) on each rank and temperature τ:

    Q ∝ exp(T / τ)                                          (B_all, K)
    repeat n times:
        Q_bk ← Q_bk / Σ_{b over all ranks} Q_bk / K        (prototype sums 1/K)
        Q_bk ← Q_bk / Σ_k Q_bk / B_all                     (sample sums 1/B_all)
    P = B_all · Q                                           (each row sums to 1)

The prototype (column) sums are all-reduced over ranks, so W ranks give the
rows one process would give on the concatenated batch. Every global scale
factor (the initial division by ΣQ, the 1/K and 1/B_all, the final B_all)
cancels in the next normalisation, so they are not computed: the result
alternates a global column and a local row normalisation and ends with rows
summing to 1 exactly; the column sums tend to B_all / K as n grows. The
logits are shifted by their (all-reduced) maximum before ``exp`` (a shift
cancels too), so no overflow at small τ.
"""
import torch
import torch.distributed as dist


def _distributed() -> bool:
    return dist.is_available() and dist.is_initialized()


@torch.no_grad()
def sinkhorn_knopp(logits: torch.Tensor, temperature: float,
                   num_iters: int = 3) -> torch.Tensor:
    """Teacher targets (B, K) of ``logits`` (B, K) (module docstring), in at
    least float32, rows summing to 1; B may be 0 on a rank (its rows are
    empty; the other ranks still all-reduce with it)."""
    if logits.dim() != 2:
        raise ValueError('sinkhorn_knopp expects (B, K) logits, got '
                         f'{tuple(logits.shape)}')
    if num_iters < 1:
        raise ValueError(f'num_iters={num_iters}: must be >= 1')
    dtype = torch.promote_types(logits.dtype, torch.float32)
    x = logits.detach().to(dtype)
    # the largest logit over all ranks (-inf on an empty rank)
    top = x.max() if x.numel() else x.new_tensor(float('-inf'))
    if _distributed():
        dist.all_reduce(top, op=dist.ReduceOp.MAX)
    q = torch.exp((x - top) / temperature)  # (B, K), entries in (0, 1]
    tiny = torch.finfo(dtype).tiny
    for _ in range(num_iters):
        cols = q.sum(0, keepdim=True)  # (1, K)
        if _distributed():
            dist.all_reduce(cols)
        q = q / cols.clamp_min(tiny)
        q = q / q.sum(1, keepdim=True).clamp_min(tiny)
    return q
