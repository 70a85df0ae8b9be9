"""Collapse statistics of a self-distillation teacher (DINO / iBOT).

Caron et al., "Emerging Properties in Self-Supervised Vision Transformers"
(DINO, ICCV 2021, Sec. 5.3 / Fig. 7) separate the two ways a teacher can
collapse with two entropies of its softmax output P (rows = images or
tokens, K prototypes):

* **uniform**: every row is (nearly) uniform -- the mean per-row entropy
  reaches ln K; the student then only has to output a uniform
  distribution and the [CLS] loss sits at ln K;
* **one prototype**: every row puts its mass on the same prototype --
  the entropy of the *mean* row reaches 0.

We report both on a readable scale::

    entropy = mean_r H(P_r) / ln K                  in [0, 1]  (1 = uniform)
    protos  = exp(H(mean_r P_r))                    in [1, K]
              (the perplexity of the batch's mean output: the number of
               prototypes the batch uses; 1 = all rows on one prototype)

A healthy teacher has sharp rows (``entropy`` well below 1) spread over
many prototypes (``protos`` well above 1). With several ranks the sums
are all-reduced (one collective of K + 2 numbers per distribution), so
the figures are those of the global batch.
"""
import math
from typing import Dict, Sequence

import torch
import torch.distributed as dist

__all__ = ['teacher_collapse_stats']


@torch.no_grad()
def teacher_collapse_stats(probs: Sequence[torch.Tensor],
                           names: Sequence[str]) -> Dict[str, torch.Tensor]:
    """Collapse figures of softmax outputs (see the module docstring).

    Args:
        probs: one ``(R_i, K_i)`` tensor of probabilities per distribution
            (rows sum to 1; ``R_i`` may be 0 on a rank).
        names: a name per distribution, e.g. ``'teacher_cls'``.

    Returns:
        ``{f'{name}_entropy': (), f'{name}_protos': ()}`` float32 scalars on
        the inputs' device; NaN for a distribution without rows on every
        rank (e.g. no masked patch token in the batch). No host sync.
    """
    if len(probs) != len(names):
        raise ValueError(f'{len(probs)} distributions but {len(names)} names')
    parts, sizes = [], []
    for p in probs:
        if p.dim() != 2:
            raise ValueError(f'probabilities must be (R, K), got shape '
                             f'{tuple(p.shape)}')
        p = p.detach().float()
        row_h = -(p * p.clamp_min(1e-30).log()).sum(-1)  # (R,)
        # (rows, Σ H): a fill kernel, not new_tensor([int, tensor]) (whose
        # tensor element is read back to the host)
        count = torch.stack([row_h.new_full((), p.shape[0]), row_h.sum()])
        parts += [p.sum(0), count]  # (K,), (2,)
        sizes += [p.shape[1], 2]
    flat = torch.cat(parts)
    if dist.is_available() and dist.is_initialized():
        dist.all_reduce(flat)
    out = {}
    chunks = flat.split(sizes)
    for i, name in enumerate(names):
        p_sum, (rows, h_sum) = chunks[2 * i], chunks[2 * i + 1]
        nan = torch.full_like(rows, float('nan'))
        k = p_sum.numel()
        mean = p_sum / rows.clamp_min(1)  # (K,)
        h_mean = -(mean * mean.clamp_min(1e-30).log()).sum()
        entropy = h_sum / rows.clamp_min(1) / math.log(k) if k > 1 else \
            torch.zeros_like(rows)
        out[f'{name}_entropy'] = torch.where(rows > 0, entropy, nan)
        out[f'{name}_protos'] = torch.where(rows > 0, h_mean.exp(), nan)
    return out
