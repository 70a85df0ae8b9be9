"""The identity "family": no parameters, ``g(u) = u``.

For the plain base-method baselines of the paper's tables (Wang et al.,
AAAI-26, arXiv:2503.18753: "SimCLR", "VICReg" rows next to "+ ours"): with
``dict(type='identity')`` the equi-recon data preprocessor leaves the second
view as the usual augmentation made it (no ``g_theta``), so a baseline
config differs from its "+ ours" config only in the method's keys and uses
the same algorithm class, no fork.
"""
import torch

from .base import ParamTransform

__all__ = ['Identity']


class Identity(ParamTransform):
    """``g(u) = u``; ``theta`` has shape ``(B, 0)``."""

    name = 'identity'
    dim = 0

    def __init__(self) -> None:
        super().__init__([], [])

    def _apply(self, img: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
        return img

    def __repr__(self) -> str:
        return f'{type(self).__name__}()'
