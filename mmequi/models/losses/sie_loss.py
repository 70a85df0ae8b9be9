"""SIE loss (Garrido, Najman and LeCun, "Self-supervised learning of Split
Invariant Equivariant representations", ICML 2023): a VICReg-style loss on
the two parts of a split embedding, with the equivariance term of the
hypernetwork predictor.

For a pair of views (1, 2) with invariant embeddings u1, u2 (B, D_i),
equivariant embeddings e1, e2 (B, D_e) and the prediction ê2 = W(g) e1 of
e2 (B, D_e) (:class:`~mmequi.models.heads.HypernetPredictor`)::

    inv   = 1/(B·D_i) Σ (u1 − u2)²                                  (local)
    equi  = 1/(B·D_e) Σ (ê2 − e2)²                                  (local)
    var   = (v(u1) + v(u2))/2 + (v(e1) + v(e2))/2 [+ v(ê2)]        (global)
    cov   = c(u1) + c(u2) + c(e1) + c(e2)                          (global)

    L     = λ_inv·inv + λ_equi·equi + λ_V·var + λ_C·cov

with v, c the VICReg variance hinge and off-diagonal covariance of
:mod:`mmequi.models.losses.vicreg_loss` (:func:`variance_term`,
:func:`covariance_term`, unbiased statistics, γ = 1, ε = 1e-4), computed per
part (the invariant and equivariant embeddings are regularised separately)
on the batch gathered over all ranks (:func:`full_gather`, so DDP's
gradient average equals the single-process gradient, as for
:class:`VICRegLoss`). The variance term on the prediction ê2 is on by
default (SIE's ablation "without the variance on the predictor's output"
turns it off: ``var_on_pred=False``).

Coefficients: the paper's values could not be verified from its text here
(see configs/sie/README.md); the defaults are VICReg's (λ_inv = λ_V = 25,
λ_C = 1) with λ_equi = λ_inv, and are config values.

Computed in (at least) fp32 with autocast disabled.
"""
from typing import Dict

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmpretrain.registry import MODELS

from .vicreg_loss import covariance_term, full_gather, variance_term


@MODELS.register_module()
class SIELoss(nn.Module):
    """See the module docstring for the equations.

    Args:
        inv_coeff: λ_inv, invariance weight.
        equi_coeff: λ_equi, equivariance (prediction) weight.
        std_coeff: λ_V, variance weight.
        cov_coeff: λ_C, covariance weight.
        gamma: γ, target standard deviation.
        eps: ε inside the square root.
        var_on_pred: add v(ê2), the variance hinge on the prediction.
        gather: gather the batch over ranks for var / cov.
    """

    def __init__(self, inv_coeff: float = 25.0, equi_coeff: float = 25.0,
                 std_coeff: float = 25.0, cov_coeff: float = 1.0,
                 gamma: float = 1.0, eps: float = 1e-4,
                 var_on_pred: bool = True, gather: bool = True) -> None:
        super().__init__()
        self.inv_coeff, self.equi_coeff = inv_coeff, equi_coeff
        self.std_coeff, self.cov_coeff = std_coeff, cov_coeff
        self.gamma, self.eps = gamma, eps
        self.var_on_pred, self.gather = var_on_pred, gather

    def _var(self, z: torch.Tensor) -> torch.Tensor:
        return variance_term(z, self.gamma, self.eps)

    def forward(self, inv1: torch.Tensor, inv2: torch.Tensor,
                equi1: torch.Tensor, equi2: torch.Tensor,
                pred2: torch.Tensor) -> Dict[str, torch.Tensor]:
        """
        Args:
            inv1, inv2: (B, D_i) invariant embeddings u1, u2.
            equi1, equi2: (B, D_e) equivariant embeddings e1, e2.
            pred2: (B, D_e) the prediction ê2 of e2 from (e1, g).
        Returns:
            ``dict(loss_inv=λ_inv·inv, loss_equi=λ_equi·equi,
            loss_var=λ_V·var, loss_cov=λ_C·cov)`` (local batch B).
        """
        if inv1.dim() != 2 or inv1.shape != inv2.shape:
            raise ValueError(f'inv1 and inv2 must be (B, D_i) of one shape, '
                             f'got {tuple(inv1.shape)} and '
                             f'{tuple(inv2.shape)}')
        if (equi1.dim() != 2 or equi1.shape != equi2.shape
                or pred2.shape != equi2.shape):
            raise ValueError(
                f'equi1, equi2 and pred2 must be (B, D_e) of one shape, got '
                f'{tuple(equi1.shape)}, {tuple(equi2.shape)} and '
                f'{tuple(pred2.shape)}')
        if equi1.shape[0] != inv1.shape[0]:
            raise ValueError(f'invariant and equivariant embeddings must '
                             f'have one batch size, got {inv1.shape[0]} and '
                             f'{equi1.shape[0]}')
        zs = (inv1, inv2, equi1, equi2, pred2)
        dtype = torch.float32
        for z in zs:
            dtype = torch.promote_types(dtype, z.dtype)
        with torch.autocast(device_type=inv1.device.type, enabled=False):
            u1, u2, e1, e2, p2 = (z.to(dtype) for z in zs)  # (B, D)
            inv = F.mse_loss(u1, u2)
            equi = F.mse_loss(p2, e2)
            if self.gather:  # (W·B, D) each
                u1, u2, e1, e2, p2 = (full_gather(z)
                                      for z in (u1, u2, e1, e2, p2))
            if u1.shape[0] < 2:
                raise ValueError(f'SIELoss needs a (global) batch of at '
                                 f'least 2 for the variance, got '
                                 f'{u1.shape[0]}')
            var = (self._var(u1) + self._var(u2)) / 2 + \
                (self._var(e1) + self._var(e2)) / 2
            if self.var_on_pred:
                var = var + self._var(p2)
            cov = (covariance_term(u1) + covariance_term(u2) +
                   covariance_term(e1) + covariance_term(e2))
        return dict(loss_inv=self.inv_coeff * inv,
                    loss_equi=self.equi_coeff * equi,
                    loss_var=self.std_coeff * var,
                    loss_cov=self.cov_coeff * cov)
