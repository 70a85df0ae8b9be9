"""A token-wise MLP: projector (VICReg/SIE-style embedding) or expander.

Applies to inputs of shape (..., C): every leading dimension is a sample
for the normalisation layers (BN statistics over all tokens of the batch).
VICReg (Bardes et al., ICLR 2022) uses Linear-BN-ReLU blocks and a final
Linear for its expander; ViT projectors usually use LayerNorm/GELU.
"""
from typing import Optional

import torch
import torch.nn as nn
from mmcv.cnn import build_norm_layer
from mmengine.model import BaseModule
from mmpretrain.registry import MODELS

_ACTS = {'ReLU': nn.ReLU, 'GELU': nn.GELU}


@MODELS.register_module()
class MLPNeck(BaseModule):
    """``num_layers`` Linear layers; between them norm + activation.

    Args:
        in_channels, hidden_channels, out_channels: widths.
        num_layers: >= 1.
        norm_cfg: e.g. ``dict(type='LN')``, ``dict(type='BN1d')``,
            ``dict(type='SyncBN')``, or None.
        act: 'ReLU' or 'GELU'.
    """

    def __init__(self, in_channels: int, hidden_channels: int,
                 out_channels: int, num_layers: int = 3,
                 norm_cfg: Optional[dict] = dict(type='BN1d'),
                 act: str = 'ReLU', init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        if num_layers < 1:
            raise ValueError(f'num_layers={num_layers} must be >= 1')
        if act not in _ACTS:
            raise ValueError(f'act={act!r}: choose from {sorted(_ACTS)}')
        dims = [in_channels] + [hidden_channels] * (num_layers - 1) + [
            out_channels]
        layers = []
        for i in range(num_layers):
            layers.append(nn.Linear(dims[i], dims[i + 1]))
            if i < num_layers - 1:
                if norm_cfg is not None:
                    layers.append(build_norm_layer(norm_cfg, dims[i + 1])[1])
                layers.append(_ACTS[act]())
        self.layers = nn.Sequential(*layers)
        self.out_channels = out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(..., C_in) -> (..., C_out)."""
        lead = x.shape[:-1]
        return self.layers(x.reshape(-1, x.shape[-1])).reshape(*lead, -1)
