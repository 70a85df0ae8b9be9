"""Homography estimation on a pretrained ViT (DeTone et al. 2016 transfer).

Task: D. DeTone, T. Malisiewicz, A. Rabinovich, *Deep Image Homography
Estimation*, arXiv 1606.03798, 2016: from two 128 x 128 patches (A, and B =
A's location in the image warped by the inverse of a random homography)
regress the 4-point parameterisation of the homography, the 8 offsets of the
patch corners, with an L2 loss; evaluate with the mean corner error. Wang
et al. (AAAI-26, arXiv 2503.18753) use it as a transfer benchmark of
pretrained ViTs with "a 3-layer conv head on features" (S-COCO mean corner
error, iBOT ViT-L/16 1.76 -> ours 1.53).

Per batch (:class:`HomographyDataPreprocessor` then
:class:`HomographyEstimator`)::

    inputs  uint8 (B, 2, C, P, P)  [patch A, patch B], C = 1 gray or 3 BGR
      -> float, gray replicated to 3 channels (BGR -> RGB for colour),
         bilinear resize P -> input_size (224 default: the ViT's
         pretraining resolution and 14 x 14 patch grid),
         ImageNet mean/std (0..255 units)                  (B, 2, 3, S, S)
    backbone on A and on B separately (one batched call over 2B images,
      the same weights)                                    (2B, C, h, w)
    concat along channels [f_A ; f_B]                      (B, 2C, h, w)
    head (HomographyHead)                                  (B, 8) = offsets / rho
    loss = MSE(head output, gt_offsets / offset_scale)    (DeTone's L2 loss)
    predict: pred_offsets = output * offset_scale          (B, 4, 2) pixels

Targets and predictions are ``(dx, dy)`` of the top-left, top-right,
bottom-right, bottom-left corners in pixels (see
:mod:`mmequi.datasets.homography`). Predicting ``offsets / rho`` keeps the
regression targets in [-1, 1]; the MSE is then the pixel MSE / rho^2
(a constant factor, the same minimiser as DeTone's pixel loss).
"""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseDataPreprocessor, BaseModel
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from ...utils.checkpoint_io import (check_keys, read_checkpoint,
                                    select_weights)

__all__ = ['HomographyEstimator', 'HomographyDataPreprocessor']

IMAGENET_MEAN = (123.675, 116.28, 103.53)
IMAGENET_STD = (58.395, 57.12, 57.375)


@MODELS.register_module()
class HomographyDataPreprocessor(BaseDataPreprocessor):
    """Patches of a homography pair -> normalised ViT inputs.

    Input: ``dict(inputs=uint8 (B, 2, C, P, P) tensor or list of B
    (2, C, P, P) tensors, data_samples=[...])`` (``PackHomographyInputs`` +
    ``default_collate`` or ``pseudo_collate``). Output:
    ``dict(inputs=float (B, 2, 3, S, S), data_samples=...)``:

    1. C = 1 (grayscale): the channel is replicated to 3 (the same gray
       value normalised with each channel's ImageNet mean/std); C = 3:
       channels reversed if ``to_rgb`` (images are decoded BGR);
    2. resized ``P -> input_size`` (bilinear, ``align_corners=False``, no
       antialias; skipped if equal);
    3. ``(x - mean) / std`` with ``mean``/``std`` in 0..255 units.

    Args:
        mean, std: per-channel (RGB) statistics; ImageNet by default.
        input_size: S, the backbone's input side (224); None keeps P.
        to_rgb: reverse BGR colour patches to RGB (True; no effect on
            grayscale).
    """

    def __init__(self,
                 mean: Sequence[float] = IMAGENET_MEAN,
                 std: Sequence[float] = IMAGENET_STD,
                 input_size: Optional[int] = 224,
                 to_rgb: bool = True,
                 non_blocking: bool = False) -> None:
        super().__init__(non_blocking=non_blocking)
        if len(mean) != 3 or len(std) != 3 or min(std) <= 0:
            raise ValueError(f'HomographyDataPreprocessor: mean={mean} and '
                             f'std={std} must have 3 entries, std > 0')
        if input_size is not None and input_size <= 0:
            raise ValueError(f'HomographyDataPreprocessor: input_size='
                             f'{input_size} must be positive (or None)')
        self.register_buffer('mean', torch.tensor(mean).view(1, 3, 1, 1),
                             False)
        self.register_buffer('std', torch.tensor(std).view(1, 3, 1, 1),
                             False)
        self.input_size = input_size
        self.to_rgb = to_rgb

    def forward(self, data: dict, training: bool = False) -> dict:
        if not isinstance(data, dict) or 'inputs' not in data:
            raise TypeError('HomographyDataPreprocessor expects a dict with '
                            f'"inputs", got {type(data).__name__}')
        data = self.cast_data(data)
        x = data['inputs']
        if isinstance(x, (list, tuple)):
            x = torch.stack(list(x))
        if x.dim() != 5 or x.shape[1] != 2 or x.shape[2] not in (1, 3):
            raise ValueError(
                'HomographyDataPreprocessor expects inputs (B, 2, C, P, P) '
                f'with C in (1, 3) (PackHomographyInputs), got '
                f'{tuple(x.shape)}')
        b, _, c, h, w = x.shape
        x = x.reshape(b * 2, c, h, w).float()
        if c == 1:
            x = x.expand(-1, 3, -1, -1)
        elif self.to_rgb:
            x = x.flip(1)
        if self.input_size is not None and (h, w) != (self.input_size, ) * 2:
            x = F.interpolate(x, size=(self.input_size, self.input_size),
                              mode='bilinear', align_corners=False)
        x = (x - self.mean) / self.std
        return dict(inputs=x.reshape(b, 2, 3, *x.shape[-2:]),
                    data_samples=data.get('data_samples'))


def _pretrained_path(init_cfg) -> Tuple[Optional[str], str]:
    """(checkpoint, prefix) of a ``Pretrained`` init_cfg, else (None, '')."""
    cfgs = init_cfg if isinstance(init_cfg, (list, tuple)) else [init_cfg]
    for cfg in cfgs:
        if isinstance(cfg, dict) and cfg.get('type') == 'Pretrained':
            return cfg.get('checkpoint'), cfg.get('prefix') or ''
    return None, ''


@MODELS.register_module()
class HomographyEstimator(BaseModel):
    """Siamese ViT + :class:`HomographyHead` regressing 4-point offsets.

    See the module docstring for the data flow.

    Args:
        backbone: backbone config giving feature maps, e.g. mmpretrain's
            ``VisionTransformer(arch='deit-small', out_type='featmap')``
            (its last output is used: ``(B, C, h, w)``), with
            ``init_cfg=dict(type='Pretrained', checkpoint=PATH)`` for the
            exported pretrained weights.
        head: head config; its ``in_channels`` (2C) is filled in from
            ``backbone.embed_dims`` if missing.
        offset_scale: the head predicts ``offsets / offset_scale``
            (rho = 32 by default).
        freeze_backbone: no gradient to the backbone (``requires_grad``
            False, kept in eval mode, run under ``no_grad``): the frozen
            linear-probe-like variant; False fine-tunes it.
        loss_weight: factor on the MSE (``loss`` key).
        check_pretrained_keys: after the backbone's ``Pretrained`` init
            (which mmengine does with ``strict=False``), compare the
            checkpoint's keys (under its ``prefix``) with the backbone's and
            raise a ValueError
            (:class:`~mmequi.utils.checkpoint_io.CheckpointMismatchError`)
            naming any missing or unexpected key or mismatched shape
            (``pos_embed`` excepted: mmpretrain's ViT resizes it): a
            checkpoint in another key format would otherwise load nothing,
            silently.
        data_preprocessor: :class:`HomographyDataPreprocessor` config.
    """

    def __init__(self,
                 backbone: dict,
                 head: dict,
                 offset_scale: float = 32.0,
                 freeze_backbone: bool = False,
                 loss_weight: float = 1.0,
                 check_pretrained_keys: bool = True,
                 data_preprocessor: Optional[Union[dict, nn.Module]] = None,
                 init_cfg: Optional[dict] = None) -> None:
        if data_preprocessor is None:
            data_preprocessor = dict(type='HomographyDataPreprocessor')
        if isinstance(data_preprocessor, dict):  # mmpretrain's registry
            data_preprocessor = MODELS.build(data_preprocessor)
        super().__init__(data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)
        if offset_scale <= 0:
            raise ValueError(f'HomographyEstimator: offset_scale='
                             f'{offset_scale} must be positive')
        self.backbone = MODELS.build(backbone)
        head = dict(head)
        if 'in_channels' not in head:
            dims = getattr(self.backbone, 'embed_dims', None)
            if dims is None:
                raise KeyError('HomographyEstimator: head.in_channels is '
                               'needed (the backbone has no embed_dims)')
            head['in_channels'] = 2 * int(dims)
        self.head = MODELS.build(head)
        self.offset_scale = float(offset_scale)
        self.freeze_backbone = bool(freeze_backbone)
        self.loss_weight = float(loss_weight)
        self.check_pretrained_keys = check_pretrained_keys
        if self.freeze_backbone:
            self.backbone.requires_grad_(False)
            self.backbone.eval()

    # ----------------------------------------------------------- weights
    def init_weights(self) -> None:
        super().init_weights()
        if not self.check_pretrained_keys:
            return
        path, prefix = _pretrained_path(
            getattr(self.backbone, 'init_cfg', None))
        if path is not None:
            self._check_keys(path, prefix)

    def _check_keys(self, path: str, prefix: str) -> None:
        """Compare the checkpoint's keys and shapes (under ``prefix``, with
        mmengine's meaning: a missing trailing dot is added) with the
        backbone's; ``pos_embed`` is resized by mmpretrain's ViT on load."""
        if prefix and not prefix.endswith('.'):
            prefix += '.'
        hint = ('Expected an mmpretrain VisionTransformer export without a '
                '"backbone." prefix (tools/model_converters/'
                'extract_backbone.py --format mmpretrain)')
        state = select_weights(read_checkpoint(path), prefix, file=path,
                               hint=hint)
        check_keys(self.backbone.state_dict(), state, file=path,
                   what=f'the HomographyEstimator backbone '
                   f'({type(self.backbone).__name__})', prefix=prefix,
                   resizable=('pos_embed', ), hint=hint)

    def train(self, mode: bool = True) -> 'HomographyEstimator':
        super().train(mode)
        if self.freeze_backbone:
            self.backbone.eval()
        return self

    # ----------------------------------------------------------- forward
    def extract_feat(self, inputs: torch.Tensor) -> torch.Tensor:
        """(B, 2, 3, S, S) -> concatenated feature maps (B, 2C, h, w)."""
        if inputs.dim() != 5 or inputs.shape[1] != 2:
            raise ValueError('HomographyEstimator expects inputs (B, 2, 3, S,'
                             f' S) (patch A, patch B), got '
                             f'{tuple(inputs.shape)}')
        b = inputs.shape[0]
        with torch.set_grad_enabled(torch.is_grad_enabled()
                                    and not self.freeze_backbone):
            out = self.backbone(inputs.flatten(0, 1))
        if isinstance(out, (tuple, list)):
            out = out[-1]
        if out.dim() != 4:
            raise ValueError(
                f'HomographyEstimator needs (B, C, h, w) feature maps from '
                f'the backbone, got {tuple(out.shape)}: set '
                "out_type='featmap' on a VisionTransformer")
        _, c, h, w = out.shape
        return out.reshape(b, 2 * c, h, w)  # [f_A ; f_B] along channels

    def _forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """Head output (B, 8): offsets / offset_scale."""
        return self.head(self.extract_feat(inputs))

    def forward(self, inputs: torch.Tensor,
                data_samples: Optional[List[DataSample]] = None,
                mode: str = 'tensor'):
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return self._forward(inputs)
        raise RuntimeError(f'Invalid mode "{mode}".')

    @staticmethod
    def _targets(data_samples: Optional[List[DataSample]], b: int,
                 device) -> torch.Tensor:
        if data_samples is None or len(data_samples) != b:
            raise ValueError(f'HomographyEstimator: need {b} data samples '
                             'with gt_offsets')
        rows = []
        for i, s in enumerate(data_samples):
            if 'gt_offsets' not in s:
                raise KeyError(f'data_samples[{i}] has no gt_offsets (use '
                               'PackHomographyInputs)')
            t = torch.as_tensor(s.gt_offsets, dtype=torch.float32)
            if t.shape != (4, 2):
                raise ValueError(f'data_samples[{i}].gt_offsets must be '
                                 f'(4, 2), got {tuple(t.shape)}')
            rows.append(t)
        return torch.stack(rows).to(device)  # (B, 4, 2) pixels

    def loss(self, inputs: torch.Tensor,
             data_samples: List[DataSample]) -> Dict[str, torch.Tensor]:
        """``{'loss': w * MSE(output, gt_offsets / offset_scale)}``."""
        out = self._forward(inputs)
        target = self._targets(data_samples, out.shape[0], out.device)
        target = target.reshape(out.shape[0], -1) / self.offset_scale
        if target.shape != out.shape:
            raise ValueError(f'HomographyEstimator: head gives '
                             f'{tuple(out.shape)}, targets are '
                             f'{tuple(target.shape)} (4 corners x 2)')
        return dict(loss=self.loss_weight * F.mse_loss(out, target))

    def predict(self, inputs: torch.Tensor,
                data_samples: Optional[List[DataSample]] = None
                ) -> List[DataSample]:
        """Set ``pred_offsets`` (4, 2) pixels on every data sample."""
        out = self._forward(inputs).detach()
        pred = out.reshape(out.shape[0], 4, 2) * self.offset_scale
        if data_samples is None:
            data_samples = [DataSample() for _ in range(out.shape[0])]
        for s, p in zip(data_samples, pred):
            s.set_field(p, 'pred_offsets')
        return data_samples
