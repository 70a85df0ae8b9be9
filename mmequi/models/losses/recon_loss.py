"""Transformed-image reconstruction loss.

Wang et al., AAAI-26 (arXiv 2503.18753): with K decoders producing
reconstructions û_k of the intermediate transformed images u_k
(normalised pixel space), each of shape (B, 3, H, W),

    L_recon = (1/K) Σ_k  1/(B·3·H·W) ||û_k − u_k||²

i.e. the mean squared error of each decoder averaged over the K decoders
(all û_k have the same shape, so this is also the mean over all K·B·3·H·W
elements). The module returns ``loss_weight · L_recon``, computed in (at
least) fp32 with autocast disabled.
"""
from typing import Sequence, Union

import torch
import torch.nn as nn
from mmpretrain.registry import MODELS

Images = Union[torch.Tensor, Sequence[torch.Tensor]]


def _stack(x: Images, name: str) -> torch.Tensor:
    if isinstance(x, torch.Tensor):
        return x
    if not isinstance(x, (list, tuple)) or len(x) == 0:
        raise ValueError(f'{name} must be a (K, B, C, H, W) tensor or a '
                         f'non-empty sequence of (B, C, H, W) tensors')
    shapes = {tuple(t.shape) for t in x}
    if len(shapes) != 1 or any(t.dim() != 4 for t in x):
        raise ValueError(f'{name} must hold K tensors of one (B, C, H, W) '
                         f'shape, got shapes {[tuple(t.shape) for t in x]}')
    return torch.stack(list(x))  # (K, B, C, H, W)


@MODELS.register_module()
class ReconLoss(nn.Module):
    """See the module docstring for the equation.

    Args:
        loss_weight: factor applied to the loss (1.0).
    """

    def __init__(self, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.loss_weight = loss_weight

    def forward(self, preds: Images, targets: Images) -> torch.Tensor:
        """
        Args:
            preds: (K, B, C, H, W) or a sequence of K (B, C, H, W)
                reconstructions û_k.
            targets: (K, B, C, H, W) (or a sequence of K (B, C, H, W))
                images u_k.
        Returns:
            scalar ``loss_weight · L_recon``.
        """
        preds = _stack(preds, 'preds')  # (K, B, C, H, W)
        targets = _stack(targets, 'targets')  # (K, B, C, H, W)
        if preds.dim() != 5:
            raise ValueError(f'preds must be (K, B, C, H, W), got shape '
                             f'{tuple(preds.shape)}')
        if targets.shape != preds.shape:
            raise ValueError(f'targets shape {tuple(targets.shape)} does not '
                             f'match preds shape {tuple(preds.shape)}')
        if preds.numel() == 0:
            raise ValueError(f'empty input of shape {tuple(preds.shape)}')
        dtype = torch.promote_types(
            torch.promote_types(preds.dtype, targets.dtype), torch.float32)
        with torch.autocast(device_type=preds.device.type, enabled=False):
            diff = preds.to(dtype) - targets.to(dtype)  # (K, B, C, H, W)
            per_k = diff.square().flatten(1).mean(dim=1)  # (K,)
            return per_k.mean() * self.loss_weight
