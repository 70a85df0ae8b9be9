"""A DPT-style dense depth head for mmseg's ``DepthEstimator`` on a plain ViT.

Ranftl, Bochkovskiy, Koltun, "Vision Transformers for Dense Prediction",
ICCV 2021 (DPT), Sec. 3 and its monocular-depth head:

* **reassemble** (per ViT level, stride 16 in): 1x1 conv to
  ``post_process_channels[i]``, then resample to stride 4 (4x4 stride-4
  transposed conv), 8 (2x2 stride-2 transposed conv), 16 (identity) and 32
  (3x3 stride-2 conv); a 3x3 conv (no bias) brings every level to
  ``channels``;
* **fusion** from the coarsest level: ``x = RCU(x + RCU(skip))`` (the
  coarsest has no skip), bilinear 2x upsampling (to the next level's size,
  so odd patch grids work), 1x1 conv; RCU is the
  residual conv unit ``x + conv(relu(conv(relu(x))))`` (3x3, no norm, as
  DPT's depth model);
* **depth output**: 3x3 conv to ``channels // 2``, bilinear 2x upsampling
  (stride 1), 3x3 conv to 32, ReLU, 1x1 conv to one channel, then
  ``sigmoid(.) * max_depth`` (metres; bounded like mmseg's ``VPDDepthHead``
  instead of DPT's unbounded ReLU, so predictions stay in the evaluated
  range (0, max_depth)).

Differences from DPT, on purpose: the readout token is ignored (DPT's
``ignore`` variant; mmpretrain's ``VisionTransformer`` with
``out_type='featmap'`` returns patch maps only), and the head takes the four
maps of the backbone's ``out_indices`` directly.

The class implements what mmseg 1.2.2's ``DepthEstimator`` (an
``EncoderDecoder``) calls on its decode head: ``forward``, ``loss``
(``loss_by_feat``: prediction resized to the ground truth, mmseg's
``SiLogLoss`` by default, which skips pixels with depth 0) and ``predict``
(``predict_by_feat``: resized to the (padded) input, as mmseg's heads) and
the attributes ``align_corners``, ``num_classes`` and ``out_channels``
(both 1). It is registered in mmseg's ``MODELS`` (the depth configs run under
``default_scope='mmseg'``). Only ``mmseg.registry`` is imported here, so
importing mmequi does not load ``mmseg.models``; the loss (``SiLogLoss``)
is looked up there when the head is built.
"""
from typing import List, Optional, Sequence, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor

try:
    # mmseg.registry builds the Registry objects only (cheap)
    from mmseg.registry import MODELS as SEG_MODELS
except ImportError:  # mmseg not installed: the head cannot be used there
    SEG_MODELS = None

#: resolution of each reassembled level relative to the stride-16 ViT map
REASSEMBLE_SCALES = (4.0, 2.0, 1.0, 0.5)


def _resample(scale: float, channels: int) -> nn.Module:
    """The DPT resampling layer that takes a stride-16 map to stride
    ``16 / scale``."""
    if scale == 4.0:
        return nn.ConvTranspose2d(channels, channels, 4, stride=4)
    if scale == 2.0:
        return nn.ConvTranspose2d(channels, channels, 2, stride=2)
    if scale == 1.0:
        return nn.Identity()
    if scale == 0.5:
        return nn.Conv2d(channels, channels, 3, stride=2, padding=1)
    raise ValueError(f'DPTDepthHead: no resampling layer for scale {scale}; '
                     f'expected one of {REASSEMBLE_SCALES}')


class ResidualConvUnit(nn.Module):
    """``x + conv3x3(relu(conv3x3(relu(x))))`` (DPT's RCU without norm)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x: Tensor) -> Tensor:
        return x + self.conv2(F.relu(self.conv1(F.relu(x))))


class FusionBlock(nn.Module):
    """One DPT fusion step: ``RCU(x + RCU(skip))``, bilinear upsampling to
    ``size`` (2x, or the next finer level's size when a grid is odd), 1x1
    conv."""

    def __init__(self, channels: int, with_skip: bool,
                 align_corners: bool) -> None:
        super().__init__()
        self.skip_unit = ResidualConvUnit(channels) if with_skip else None
        self.unit = ResidualConvUnit(channels)
        self.project = nn.Conv2d(channels, channels, 1)
        self.align_corners = align_corners

    def forward(self, x: Tensor, skip: Optional[Tensor],
                size: Sequence[int]) -> Tensor:
        if (skip is None) != (self.skip_unit is None):
            raise ValueError('FusionBlock: a skip input is required exactly '
                             'when the block was built with_skip')
        if skip is not None:
            x = x + self.skip_unit(skip)
        x = self.unit(x)
        x = F.interpolate(x, size=tuple(size), mode='bilinear',
                          align_corners=self.align_corners)
        return self.project(x)


class DPTDepthHead(BaseModule):
    """DPT-style depth head (see the module docstring).

    Args:
        in_channels: channels of the four ViT maps (e.g. ``[384] * 4`` for
            ViT-S/16), shallowest block first; all maps are stride 16.
        post_process_channels: reassembled channels per level (DPT-Large:
            256, 512, 1024, 1024).
        channels: fusion width (DPT: 256).
        max_depth: upper bound of the prediction in metres (NYU: 10).
        align_corners: for every bilinear resize.
        loss_decode: mmseg loss config(s), called as ``loss(pred, gt)`` on
            ``(B, 1, H, W)`` maps; their ``loss_name`` keys form the loss
            dict (``loss_silog`` for mmseg's ``SiLogLoss``).
        init_cfg: mmengine init config (default: truncated normal 0.02 for
            convs, as mmseg's depth head).

    Shapes: ``forward`` takes 4 maps ``(B, C_i, H/16, W/16)`` and returns
    ``(B, 1, H, W)`` (stride 1) with values in ``(0, max_depth)``.
    """

    num_classes = 1
    out_channels = 1

    def __init__(self,
                 in_channels: Sequence[int],
                 post_process_channels: Sequence[int] = (96, 192, 384, 768),
                 channels: int = 256,
                 max_depth: float = 10.0,
                 align_corners: bool = False,
                 loss_decode: Union[dict, Sequence[dict]] = dict(
                     type='SiLogLoss'),
                 init_cfg: Optional[dict] = dict(
                     type='TruncNormal', std=0.02,
                     layer=['Conv2d', 'ConvTranspose2d'])) -> None:
        super().__init__(init_cfg=init_cfg)
        in_channels = list(in_channels)
        post_process_channels = list(post_process_channels)
        if len(in_channels) != len(REASSEMBLE_SCALES) or \
                len(post_process_channels) != len(REASSEMBLE_SCALES):
            raise ValueError(
                f'DPTDepthHead: in_channels and post_process_channels need '
                f'{len(REASSEMBLE_SCALES)} entries (one per ViT level), got '
                f'{in_channels} and {post_process_channels}')
        if not max_depth > 0:
            raise ValueError(f'DPTDepthHead: max_depth must be > 0 metres, '
                             f'got {max_depth}')
        self.in_channels = in_channels
        self.channels = int(channels)
        self.max_depth = float(max_depth)
        self.align_corners = align_corners

        self.projects = nn.ModuleList(
            nn.Conv2d(c_in, c_out, 1)
            for c_in, c_out in zip(in_channels, post_process_channels))
        self.resamples = nn.ModuleList(
            _resample(s, c)
            for s, c in zip(REASSEMBLE_SCALES, post_process_channels))
        self.convs = nn.ModuleList(
            nn.Conv2d(c, self.channels, 3, padding=1, bias=False)
            for c in post_process_channels)
        self.fusions = nn.ModuleList(
            FusionBlock(self.channels, with_skip=i > 0,
                        align_corners=align_corners)
            for i in range(len(REASSEMBLE_SCALES)))
        self.depth_conv1 = nn.Conv2d(self.channels, self.channels // 2, 3,
                                     padding=1)
        self.depth_conv2 = nn.Conv2d(self.channels // 2, 32, 3, padding=1)
        self.depth_conv3 = nn.Conv2d(32, 1, 1)

        if SEG_MODELS is None:
            raise ImportError('DPTDepthHead needs mmsegmentation (its loss '
                              'registry); install mmsegmentation')
        configs = [loss_decode] if isinstance(loss_decode, dict) else \
            list(loss_decode)
        if not configs:
            raise ValueError('DPTDepthHead: loss_decode is empty')
        self.loss_decode = nn.ModuleList(
            SEG_MODELS.build(cfg) for cfg in configs)

    def forward(self, inputs: Sequence[Tensor]) -> Tensor:
        """Four stride-16 maps -> depth ``(B, 1, H, W)`` in metres."""
        if len(inputs) != len(self.projects):
            raise ValueError(f'DPTDepthHead: expected {len(self.projects)} '
                             f'feature maps, got {len(inputs)}')
        levels = [
            conv(resample(project(x)))
            for x, project, resample, conv in zip(
                inputs, self.projects, self.resamples, self.convs)
        ]
        # coarse to fine; each block ends at the next level's size, the
        # last at twice the stride-4 level (stride 2)
        skips = [None] + levels[-2::-1]
        sizes = [lvl.shape[2:] for lvl in levels[-2::-1]] + \
            [[2 * n for n in levels[0].shape[2:]]]
        out = levels[-1]
        for fusion, skip, size in zip(self.fusions, skips, sizes):
            out = fusion(out, skip, size)
        out = self.depth_conv1(out)
        out = F.interpolate(out, scale_factor=2, mode='bilinear',
                            align_corners=self.align_corners)
        out = self.depth_conv3(F.relu(self.depth_conv2(out)))
        return torch.sigmoid(out) * self.max_depth

    def loss(self, inputs: Sequence[Tensor], batch_data_samples: list,
             train_cfg: Optional[dict] = None) -> dict:
        """``forward`` + ``loss_by_feat`` (mmseg's decode-head API)."""
        return self.loss_by_feat(self.forward(inputs), batch_data_samples)

    def loss_by_feat(self, pred: Tensor, batch_data_samples: list) -> dict:
        """Losses of ``pred`` ``(B, 1, h, w)`` against the samples'
        ``gt_depth_map`` ``(1, H, W)`` (metres; 0 = no measurement), after a
        bilinear resize of ``pred`` to ``(H, W)``."""
        gt = torch.stack(
            [s.gt_depth_map.data for s in batch_data_samples]).to(pred)
        pred = F.interpolate(pred, size=gt.shape[2:], mode='bilinear',
                             align_corners=self.align_corners)
        losses = {}
        for loss_fn in self.loss_decode:
            value = loss_fn(pred, gt)
            name = loss_fn.loss_name
            losses[name] = losses[name] + value if name in losses else value
        return losses

    def predict(self, inputs: Sequence[Tensor], batch_img_metas: List[dict],
                test_cfg: Optional[dict] = None) -> Tensor:
        """``forward`` + ``predict_by_feat`` (mmseg's decode-head API)."""
        return self.predict_by_feat(self.forward(inputs), batch_img_metas)

    def predict_by_feat(self, pred: Tensor,
                        batch_img_metas: List[dict]) -> Tensor:
        """Resize ``pred`` to the network input: the window in sliding
        inference (``img_shape`` is then a ``torch.Size``), else the padded
        batch shape (``DepthEstimator.postprocess_result`` removes the
        padding and resizes to the original image)."""
        meta = batch_img_metas[0]
        if isinstance(meta['img_shape'], torch.Size):
            size = meta['img_shape']
        elif 'pad_shape' in meta:
            size = meta['pad_shape'][:2]
        else:
            size = meta['img_shape']
        return F.interpolate(pred, size=tuple(size), mode='bilinear',
                             align_corners=self.align_corners)


if SEG_MODELS is not None:
    SEG_MODELS.register_module(module=DPTDepthHead)

