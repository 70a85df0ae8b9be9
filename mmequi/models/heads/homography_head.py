"""A 3-layer convolutional head regressing the 4-point homography.

The homography transfer task of Wang et al. (AAAI-26, arXiv 2503.18753)
puts "a 3-layer conv head on features" of the two patches of DeTone,
Malisiewicz, Rabinovich, *Deep Image Homography Estimation* (2016); the
widths are not published. Ours (input: the two patches' token maps
concatenated along channels, ``(B, 2C, h, w)``; ViT-S/16 at 224 px:
``(B, 768, 14, 14)``)::

    conv 3x3, 2C -> 256, stride 1, BN, ReLU       (B, 256, h, w)
    conv 3x3, 256 -> 128, stride 2, BN, ReLU      (B, 128, ceil(h/2), ceil(w/2))
    adaptive average pool to 4 x 4, flatten       (B, 2048)
    linear 2048 -> 8                              (B, 8)

The pooling to a fixed 4 x 4 grid keeps the coarse layout (where in the
patch a feature is) that the corner offsets depend on, and makes the head
independent of the backbone's input size. The output is
``(dx, dy)`` of the top-left, top-right, bottom-right, bottom-left corners,
in whatever unit the model trains it in (``HomographyEstimator``: offsets
divided by ``offset_scale`` = rho).
"""
from typing import Optional, Sequence

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from mmpretrain.registry import MODELS

__all__ = ['HomographyHead']


@MODELS.register_module()
class HomographyHead(BaseModule):
    """conv-BN-ReLU x 2 + linear: ``(B, in_channels, h, w) -> (B, 8)``.

    Args:
        in_channels: channels of the concatenated pair of feature maps (2C).
        channels: widths of the two conv layers (256, 128).
        strides: their strides (1, 2).
        pool_size: side of the adaptive average pool before the linear
            layer (4).
        num_outputs: 8 (4 corners x (dx, dy)).
        norm_cfg: the conv layers' norm (BN; ``SyncBN`` for small per-GPU
            batches).
        init_cfg: mmengine init config; by default convs Kaiming, the final
            linear layer ``N(0, 0.01)`` with zero bias, so that an untrained
            head predicts offsets near 0 (the identity homography).
    """

    def __init__(self,
                 in_channels: int,
                 channels: Sequence[int] = (256, 128),
                 strides: Sequence[int] = (1, 2),
                 pool_size: int = 4,
                 num_outputs: int = 8,
                 norm_cfg: Optional[dict] = dict(type='BN'),
                 init_cfg: Optional[dict] = None) -> None:
        if init_cfg is None:
            init_cfg = [dict(type='Kaiming', layer='Conv2d'),
                        dict(type='Normal', layer='Linear', std=0.01,
                             bias=0.0)]
        super().__init__(init_cfg=init_cfg)
        if len(channels) != 2 or len(strides) != 2:
            raise ValueError(f'HomographyHead: channels={tuple(channels)} and '
                             f'strides={tuple(strides)} must have 2 entries '
                             '(two conv layers)')
        if in_channels <= 0 or pool_size <= 0 or num_outputs <= 0:
            raise ValueError(
                f'HomographyHead: in_channels={in_channels}, pool_size='
                f'{pool_size}, num_outputs={num_outputs} must be positive')
        self.in_channels = int(in_channels)
        self.convs = nn.Sequential(
            ConvModule(in_channels, channels[0], 3, stride=strides[0],
                       padding=1, norm_cfg=norm_cfg,
                       act_cfg=dict(type='ReLU')),
            ConvModule(channels[0], channels[1], 3, stride=strides[1],
                       padding=1, norm_cfg=norm_cfg,
                       act_cfg=dict(type='ReLU')))
        self.pool = nn.AdaptiveAvgPool2d(pool_size)
        self.fc = nn.Linear(channels[1] * pool_size * pool_size, num_outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, in_channels, h, w)`` -> ``(B, num_outputs)``."""
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f'HomographyHead expects (B, {self.in_channels}, '
                             f'h, w) features, got {tuple(x.shape)}')
        return self.fc(self.pool(self.convs(x)).flatten(1))
