"""ViTDet's simple feature pyramid on a plain ViT.

Li, Mao, Girshick, He, "Exploring Plain Vision Transformer Backbones for
Object Detection", ECCV 2022 (ViTDet), Sec. 3 / Fig. 2(c): no top-down or
lateral fusion; the pyramid is built from the *last* stride-16 feature map
alone, by

* stride 4: two 2x2 stride-2 transposed convs (C -> C/2 -> C/4) with LN2d +
  GELU between them,
* stride 8: one 2x2 stride-2 transposed conv (C -> C/2),
* stride 16: the map itself,
* stride 32: 2x2 stride-2 max pooling,

then on every level a 1x1 conv + LN2d and a 3x3 conv + LN2d (no bias: the
norm has one) to ``out_channels``. Extra levels (Mask R-CNN's RPN uses
strides 4..64, ``num_outs=5``) subsample the last output with
``max_pool2d(kernel_size=1, stride=2)``, as mmdet's ``FPN`` without extra
convs and Detectron2's ``LastLevelMaxPool`` do.

Registered in mmdet's ``MODELS`` (used by the Mask R-CNN configs under
``default_scope='mmdet'``) and mmpretrain's. mmpretrain's ``LN2d``
(``mmpretrain.models.utils.LayerNorm2d``, registered only in mmpretrain's
registry upstream) is registered in mmdet's ``MODELS`` here too, so
``norm_cfg=dict(type='LN2d')`` resolves under ``default_scope='mmdet'``.
"""
from contextlib import nullcontext
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule, build_norm_layer
from mmengine.model import BaseModule
from mmengine.registry import DefaultScope
from mmpretrain.models.utils import LayerNorm2d  # registered as 'LN2d'
from mmpretrain.registry import MODELS as PRETRAIN_MODELS

try:
    # mmdet.registry only builds the Registry objects (it does not import
    # mmdet.models), so this is cheap. mmdet is optional for mmequi: without
    # it, ONLY the mmdet registration below is skipped (mmpretrain-only
    # installs cannot run a detection config anyway); the neck itself and
    # its mmpretrain registration work as usual.
    from mmdet.registry import MODELS as DET_MODELS
except ImportError:  # mmdet not installed
    DET_MODELS = None

#: pyramid levels ViTDet builds from the stride-16 map (4, 8, 16, 32)
DEFAULT_SCALE_FACTORS = (4.0, 2.0, 1.0, 0.5)


def _norm_scope():
    """Scope in which norm types (``LN2d``) are looked up.

    mmcv's ``build_norm_layer`` resolves a type name in the registry of the
    current default scope (a runner sets it from ``default_scope``). Built
    outside a runner (no default scope), use mmdet's registry, where
    :mod:`mmequi` registers ``LN2d`` (mmpretrain's without mmdet)."""
    if DefaultScope.get_current_instance() is not None:
        return nullcontext()
    return DefaultScope.overwrite_default_scope(
        'mmdet' if DET_MODELS is not None else 'mmpretrain')


class SimpleFPN(BaseModule):
    """Simple feature pyramid from one ViT feature map (ViTDet).

    Args:
        in_channels: channels ``C`` of the backbone map (384 ViT-S, 1024
            ViT-L).
        out_channels: channels of every output level (256).
        num_outs: number of outputs; levels beyond ``len(scale_factors)``
            are stride-2 subsamplings of the last one (5: strides 4..64).
        scale_factors: resolution of each built level relative to the input
            map, a subset of ``(4.0, 2.0, 1.0, 0.5)`` in decreasing order.
        norm_cfg: norm after every conv/deconv (``LN2d``, eps 1e-6 as
            ViTDet's LayerNorm).
        init_cfg: mmengine init config (default: ConvModule's Kaiming init
            of the convs, PyTorch's default for the transposed convs).

    Input: a ``(B, C, H, W)`` stride-16 map, or a tuple/list holding exactly
    one (mmpretrain ``VisionTransformer(out_type='featmap',
    out_indices=-1)``). Output: tuple of ``num_outs`` maps
    ``(B, out_channels, H * s, W * s)`` for the scale factors ``s`` (floored
    for the poolings), then the extra levels.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int = 256,
                 num_outs: int = 5,
                 scale_factors: Sequence[float] = DEFAULT_SCALE_FACTORS,
                 norm_cfg: dict = dict(type='LN2d', eps=1e-6),
                 init_cfg: Optional[Union[dict, List[dict]]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        scale_factors = tuple(float(s) for s in scale_factors)
        if not scale_factors or any(s not in DEFAULT_SCALE_FACTORS
                                    for s in scale_factors):
            raise ValueError(
                f'SimpleFPN: scale_factors={scale_factors} must be a '
                f'non-empty subset of {DEFAULT_SCALE_FACTORS}')
        if list(scale_factors) != sorted(set(scale_factors), reverse=True):
            raise ValueError(
                f'SimpleFPN: scale_factors={scale_factors} must be distinct '
                'and in decreasing order (fine to coarse)')
        if num_outs < len(scale_factors):
            raise ValueError(
                f'SimpleFPN: num_outs={num_outs} < {len(scale_factors)} '
                f'levels built from scale_factors={scale_factors}')
        if in_channels % 4:
            raise ValueError(
                f'SimpleFPN: in_channels={in_channels} must be divisible by '
                '4 (the stride-4 path halves the channels twice)')
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.num_outs = num_outs
        self.scale_factors = scale_factors

        self.stages = nn.ModuleList()  # resampling to each level's stride
        self.lateral_convs = nn.ModuleList()  # 1x1 conv + norm
        self.output_convs = nn.ModuleList()  # 3x3 conv + norm
        with _norm_scope():
            for scale in scale_factors:
                stage, channels = self._resample(scale, in_channels,
                                                 norm_cfg)
                self.stages.append(stage)
                self.lateral_convs.append(
                    ConvModule(channels, out_channels, 1, bias=False,
                               norm_cfg=norm_cfg, act_cfg=None))
                self.output_convs.append(
                    ConvModule(out_channels, out_channels, 3, padding=1,
                               bias=False, norm_cfg=norm_cfg, act_cfg=None))

    @staticmethod
    def _resample(scale: float, channels: int,
                  norm_cfg: dict) -> Tuple[nn.Module, int]:
        """The resampling stage of one level and its output channels."""
        if scale == 4.0:
            return nn.Sequential(
                nn.ConvTranspose2d(channels, channels // 2, 2, stride=2),
                build_norm_layer(norm_cfg, channels // 2)[1],
                nn.GELU(),
                nn.ConvTranspose2d(channels // 2, channels // 4, 2,
                                   stride=2)), channels // 4
        if scale == 2.0:
            return nn.ConvTranspose2d(channels, channels // 2, 2,
                                      stride=2), channels // 2
        if scale == 1.0:
            return nn.Identity(), channels
        return nn.MaxPool2d(kernel_size=2, stride=2), channels  # 0.5

    def _input(self, inputs) -> torch.Tensor:
        if isinstance(inputs, (tuple, list)):
            if len(inputs) != 1:
                raise ValueError(
                    f'SimpleFPN takes ONE backbone feature map (the last ViT '
                    f'layer), got {len(inputs)}; set the backbone\'s '
                    f'out_indices=-1 (one index)')
            inputs = inputs[0]
        if not isinstance(inputs, torch.Tensor) or inputs.dim() != 4:
            raise ValueError(
                'SimpleFPN expects a (B, C, H, W) tensor (backbone '
                "out_type='featmap'), got "
                f'{getattr(inputs, "shape", type(inputs))}')
        if inputs.shape[1] != self.in_channels:
            raise ValueError(
                f'SimpleFPN(in_channels={self.in_channels}) got a map with '
                f'{inputs.shape[1]} channels')
        return inputs

    def forward(self, inputs: Union[torch.Tensor, Sequence[torch.Tensor]]
                ) -> Tuple[torch.Tensor, ...]:
        x = self._input(inputs)
        outs = [
            out_conv(lateral(stage(x))) for stage, lateral, out_conv in zip(
                self.stages, self.lateral_convs, self.output_convs)
        ]
        while len(outs) < self.num_outs:
            outs.append(F.max_pool2d(outs[-1], kernel_size=1, stride=2))
        return tuple(outs)

    @property
    def strides(self) -> Tuple[int, ...]:
        """Output strides for a stride-16 input (4, 8, 16, 32, 64)."""
        base = [int(round(16 / s)) for s in self.scale_factors]
        extra = [base[-1] * 2**(i + 1)
                 for i in range(self.num_outs - len(base))]
        return tuple(base + extra)


def _register() -> None:
    PRETRAIN_MODELS.register_module(module=SimpleFPN)
    if DET_MODELS is None:
        return
    DET_MODELS.register_module(module=SimpleFPN)
    # ``module_dict`` (not ``get``): ``get`` would import all of mmdet.models
    existing = DET_MODELS.module_dict.get('LN2d')
    if existing is None:
        DET_MODELS.register_module(name='LN2d', module=LayerNorm2d)
    elif existing is not LayerNorm2d:
        raise KeyError(
            f"mmdet's MODELS already has a different 'LN2d' ({existing}); "
            'SimpleFPN needs mmpretrain.models.utils.LayerNorm2d')


_register()
