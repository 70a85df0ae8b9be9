"""VICReg loss (Bardes, Ponce and LeCun, "VICReg: Variance-Invariance-
Covariance Regularization for Self-Supervised Learning", ICLR 2022).

For embeddings x, y of shape (B, D) (local batch B on each rank, global
batch B_g = W·B over W ranks):

    inv   = 1/(B·D) Σ_b Σ_d (x_bd − y_bd)²                        (local)

    v(z)  = 1/D Σ_d relu(γ − sqrt(Var_b(z_d) + ε)),
            Var_b unbiased over the global batch                    (global)
    var   = (v(x) + v(y)) / 2

    C(z)  = (z − z̄)^T (z − z̄) / (B_g − 1)          (D, D)
    c(z)  = 1/D Σ_{i≠j} C(z)_ij²
    cov   = c(x) + c(y)                                             (global)

    L     = λ·inv + μ·var + ν·cov,   λ = μ = 25, ν = 1, γ = 1, ε = 1e-4

(the official code averages v over the two branches, as above; the paper's
Eq. 6 writes the sum, i.e. twice this term: use ``std_coeff=50`` for it). The variance and covariance
statistics use x, y gathered over all ranks (:class:`FullGather`: all_gather
forward; backward all-reduces (sums) the gradient and keeps the local
slice, as the official ``FullGatherLayer``); the invariance term is the
local MSE. With equal local batches this means, for the loss L_r that rank
r returns and the single-process loss L on the concatenated batch:

* var and cov on every rank equal those of L; mean_r inv_r equals inv of L;
* ∂L_r/∂x_r (after the backward all-reduce) = W · ∂L/∂x_r, so the gradient
  averaging of DDP yields exactly the parameter gradient of L.

Computed in (at least) fp32 with autocast disabled.
"""
from typing import Dict

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F
from mmpretrain.registry import MODELS


def _world() -> int:
    if dist.is_available() and dist.is_initialized():
        return dist.get_world_size()
    return 1


class FullGather(torch.autograd.Function):
    """(B, ...) local -> (W·B, ...) concatenated in rank order.

    Backward: the incoming gradient is summed over ranks (every rank's loss
    depends on every rank's slice) and the local slice is returned. All
    ranks must pass the same shape.
    """

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        x = x.contiguous()
        out = [torch.empty_like(x) for _ in range(dist.get_world_size())]
        dist.all_gather(out, x)
        ctx.local = x.shape[0]
        return torch.cat(out, dim=0)  # (W·B, ...)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        grad = grad.contiguous().clone()  # (W·B, ...)
        dist.all_reduce(grad)  # sum over ranks
        start = dist.get_rank() * ctx.local
        return grad[start:start + ctx.local]  # (B, ...)


def full_gather(x: torch.Tensor) -> torch.Tensor:
    """:class:`FullGather` when distributed with W > 1, else identity."""
    return FullGather.apply(x) if _world() > 1 else x


def variance_term(z: torch.Tensor, gamma: float = 1.0,
                  eps: float = 1e-4) -> torch.Tensor:
    """v(z) = 1/D Σ_d relu(γ − sqrt(Var_b(z_d) + ε)), Var unbiased.

    z: (N, D) (pass the gathered batch for the global statistic) -> ().
    """
    std = torch.sqrt(z.var(dim=0) + eps)  # (D,) unbiased
    return F.relu(gamma - std).mean()


def covariance_term(z: torch.Tensor) -> torch.Tensor:
    """c(z) = 1/D Σ_{i≠j} C(z)_ij², C = (z − z̄)^T (z − z̄) / (N − 1).

    z: (N, D) (pass the gathered batch for the global statistic) -> ().
    """
    n, d = z.shape
    z = z - z.mean(dim=0)  # (N, D)
    cov = z.T @ z / (n - 1)  # (D, D)
    off = cov.square().sum() - cov.diagonal().square().sum()
    return off / d


@MODELS.register_module()
class VICRegLoss(nn.Module):
    """See the module docstring for the equations.

    Args:
        sim_coeff: λ, invariance weight (25).
        std_coeff: μ, variance weight (25).
        cov_coeff: ν, covariance weight (1).
        gamma: γ, target standard deviation (1).
        eps: ε inside the square root (1e-4).
        gather: gather the batch over ranks for var / cov (True).
    """

    def __init__(self, sim_coeff: float = 25.0, std_coeff: float = 25.0,
                 cov_coeff: float = 1.0, gamma: float = 1.0,
                 eps: float = 1e-4, gather: bool = True) -> None:
        super().__init__()
        self.sim_coeff, self.std_coeff = sim_coeff, std_coeff
        self.cov_coeff, self.gamma, self.eps = cov_coeff, gamma, eps
        self.gather = gather

    def _var(self, z: torch.Tensor) -> torch.Tensor:
        return variance_term(z, self.gamma, self.eps)

    @staticmethod
    def _cov(z: torch.Tensor) -> torch.Tensor:
        return covariance_term(z)

    def forward(self, x: torch.Tensor,
                y: torch.Tensor) -> Dict[str, torch.Tensor]:
        """
        Args:
            x, y: (B, D) embeddings of the two branches (local batch).
        Returns:
            ``dict(loss_inv=λ·inv, loss_var=μ·var, loss_cov=ν·cov)``.
        """
        if x.dim() != 2 or x.shape != y.shape:
            raise ValueError(f'x and y must be (B, D) of one shape, got '
                             f'{tuple(x.shape)} and {tuple(y.shape)}')
        dtype = torch.promote_types(
            torch.promote_types(x.dtype, y.dtype), torch.float32)
        with torch.autocast(device_type=x.device.type, enabled=False):
            x, y = x.to(dtype), y.to(dtype)  # (B, D)
            inv = F.mse_loss(x, y)
            if self.gather:
                x, y = full_gather(x), full_gather(y)  # (W·B, D)
            if x.shape[0] < 2:
                raise ValueError(f'VICReg needs a (global) batch of at least '
                                 f'2 for the variance, got {x.shape[0]}')
            var = (self._var(x) + self._var(y)) / 2  # official VICReg
            cov = self._cov(x) + self._cov(y)
        return dict(loss_inv=self.sim_coeff * inv,
                    loss_var=self.std_coeff * var,
                    loss_cov=self.cov_coeff * cov)
