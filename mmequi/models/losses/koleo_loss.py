"""KoLeo regulariser: the Kozachenko-Leonenko differential-entropy estimate.

Sablayrolles, Douze, Schmid, Jégou, "Spreading vectors for similarity
search", ICLR 2019; used by DINOv2 (Oquab et al., TMLR 2024, Sec. 5) on the
L2-normalised student [CLS] backbone features of each global crop, weight
0.1. For n vectors x_i (per rank, not gathered), x̂_i = x_i / ||x_i||:

    L_KoLeo = −(1/n) Σ_i log( min_{j≠i} ||x̂_i − x̂_j|| + ε )

Minimising it pushes every feature away from its nearest neighbour, which
spreads the batch over the sphere. The nearest neighbour of a unit vector
is the one with the largest inner product; the gradient flows through both
vectors of each nearest pair (the neighbour index itself is not
differentiated).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmpretrain.registry import MODELS


def koleo_loss(x: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """KoLeo loss (module docstring) of ``x`` (n, D), n >= 2; a scalar,
    computed in at least float32 with autocast off."""
    if x.dim() != 2 or x.shape[0] < 2:
        raise ValueError('koleo_loss needs (n, D) features with n >= 2 (a '
                         'nearest neighbour per row), got '
                         f'{tuple(x.shape)}')
    dtype = torch.promote_types(x.dtype, torch.float32)
    with torch.autocast(device_type=x.device.type, enabled=False):
        x = F.normalize(x.to(dtype), p=2, dim=-1, eps=eps)  # (n, D)
        with torch.no_grad():
            dots = x @ x.t()  # (n, n) = 1 − ||x̂_i − x̂_j||² / 2
            dots.fill_diagonal_(-2.0)  # below any cosine: never the NN
            nearest = dots.argmax(1)  # (n,)
        # eps inside the norm keeps the gradient finite for equal vectors
        dist = (x - x.index_select(0, nearest) + eps).norm(dim=-1)  # (n,)
        return -torch.log(dist + eps).mean()


@MODELS.register_module()
class KoLeoLoss(nn.Module):
    """``loss_weight`` × :func:`koleo_loss` (module docstring).

    Args:
        loss_weight: the weight (DINOv2: 0.1).
        eps: ε of the normalisation, the distance and the log (1e-8).
    """

    def __init__(self, loss_weight: float = 1.0, eps: float = 1e-8) -> None:
        super().__init__()
        self.loss_weight, self.eps = loss_weight, eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (n, D) features of one view -> scalar."""
        return self.loss_weight * koleo_loss(x, self.eps)
