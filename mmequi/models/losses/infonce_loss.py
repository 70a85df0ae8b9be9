"""InfoNCE / NT-Xent loss of SimCLR (Chen, Kornblith, Norouzi and Hinton, "A
Simple Framework for Contrastive Learning of Visual Representations", ICML
2020, Eq. 1).

For the two views' embeddings x, y of shape (B, D) on each of W ranks, the
global batch is the 2M = 2·W·B vectors (M = W·B)::

    s_ij   = u_i^T u_j / (||u_i|| ||u_j||)          cosine similarity
    l(i,j) = −log  exp(s_ij/τ) / Σ_{k≠i} exp(s_ik/τ)
    L      = 1/(2M) Σ_{m=1..M} [ l(x_m, y_m) + l(y_m, x_m) ]

i.e. every sample's other view is its positive and the remaining 2M − 2
vectors of the global batch are its negatives (in-batch negatives).

Distributed: rank r computes l(i, ·) for its 2B local anchors against the
2M gathered vectors (:func:`~mmequi.models.losses.vicreg_loss.full_gather`:
all_gather forward; backward sums the gradient over ranks and keeps the
local slice) and returns their mean L_r. With equal local batches
mean_r L_r = L, and ∂L_r/∂x_r (after the backward all-reduce) = W · ∂L/∂x_r,
so DDP's gradient average gives exactly the parameter gradient of L (the
negatives from the other ranks get the gradient of the other ranks' anchors
too, not only that of the local ones). ``gather=False`` or one process:
the local batch alone (M = B).

Computed in (at least) fp32 with autocast disabled.
"""
from typing import Dict

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.dist import get_rank
from mmpretrain.registry import MODELS

from .vicreg_loss import _world, full_gather


@MODELS.register_module()
class InfoNCELoss(nn.Module):
    """NT-Xent with in-batch negatives (see the module docstring).

    Args:
        temperature: τ (0.1).
        gather: take the negatives from the batch gathered over all ranks
            (True); no-op on one process.
        loss_weight: factor on the loss (1).
    """

    def __init__(self, temperature: float = 0.1, gather: bool = True,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        if not temperature > 0:
            raise ValueError(f'InfoNCELoss temperature must be > 0, got '
                             f'{temperature!r}')
        self.temperature = temperature
        self.gather = gather
        self.loss_weight = loss_weight

    def forward(self, x: torch.Tensor,
                y: torch.Tensor) -> Dict[str, torch.Tensor]:
        """
        Args:
            x, y: (B, D) embeddings of the two views (local batch), sample
                b of x and of y from the same image.
        Returns:
            ``dict(loss_infonce=loss_weight · L_r)``.
        """
        if x.dim() != 2 or x.shape != y.shape:
            raise ValueError(f'x and y must be (B, D) of one shape, got '
                             f'{tuple(x.shape)} and {tuple(y.shape)}')
        dtype = torch.promote_types(
            torch.promote_types(x.dtype, y.dtype), torch.float32)
        B = x.shape[0]
        with torch.autocast(device_type=x.device.type, enabled=False):
            q = F.normalize(torch.cat([x, y]).to(dtype), dim=1)  # (2B, D)
            if self.gather and _world() > 1:
                # (W·B, D) each, rank order; local slice at rank·B
                xs, ys = full_gather(q[:B]), full_gather(q[B:])
                offset = get_rank() * B
            else:
                xs, ys, offset = q[:B], q[B:], 0
            M = xs.shape[0]
            if M < 2:
                raise ValueError('InfoNCE needs a (global) batch of at least '
                                 f'2 for a negative, got {M}')
            keys = torch.cat([xs, ys])  # (2M, D): all x, then all y
            logits = q @ keys.T / self.temperature  # (2B, 2M)
            local = torch.arange(B, device=q.device) + offset  # (B,)
            own = torch.cat([local, local + M])  # (2B,) anchor itself
            positive = torch.cat([local + M, local])  # (2B,) other view
            rows = torch.arange(2 * B, device=q.device)
            logits = logits.index_put((rows, own),
                                      logits.new_tensor(float('-inf')))
            loss = F.cross_entropy(logits, positive)
        return dict(loss_infonce=self.loss_weight * loss)
