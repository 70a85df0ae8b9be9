"""Linear-probe features of a ViT, as in the DINO / iBOT linear evaluation.

Zhou et al., "iBOT", ICLR 2022 (``evaluation/eval_linear.py``, following
Caron et al., "DINO", ICCV 2021): the frozen ViT's ``get_intermediate_layers``
returns the last ``n`` blocks' token sequences, *each passed through the
backbone's final LayerNorm*; the linear classifier's input is

* ViT-S/16 (``n_last_blocks=4``): the [CLS] tokens of the last 4 blocks
  concatenated, 4 x 384 = 1536 dims;
* ViT-B/L (``n_last_blocks=1``, ``avgpool_patchtokens``): the last block's
  [CLS] token and the mean of its patch tokens, 2 x C dims (ViT-L: 2048).

Used for the linear probes of Wang et al., AAAI-26 (Table 5) in
``configs/benchmarks/classification/linear_*.py``.

Why a backbone subclass and not a neck on mmpretrain's ``VisionTransformer``
(``out_type='raw'``, ``out_indices``): mmpretrain applies the final norm
``ln1`` only after the *last* block, so the other selected blocks' outputs
would reach a neck un-normalised, and a neck has no access to the
backbone's ``ln1`` weights. :class:`ViTLinearFeatures` *is* a
``VisionTransformer`` (same parameters and state-dict keys, so a backbone
export of ``tools/model_converters/extract_backbone.py`` loads unchanged and
``backbone.layers.N`` layer-decay keys still apply); it calls the parent's
forward for the raw token sequences and applies ``ln1`` to every selected
block except the last one (already normalised by the parent).
"""
from typing import Sequence, Tuple, Union

import torch
from mmpretrain.models import VisionTransformer
from mmpretrain.registry import MODELS

__all__ = ['ViTLinearFeatures']


@MODELS.register_module()
class ViTLinearFeatures(VisionTransformer):
    """mmpretrain ``VisionTransformer`` returning the DINO/iBOT linear-probe
    feature.

    Args:
        out_indices: the blocks whose [CLS] tokens are concatenated, in
            order (e.g. ``(8, 9, 10, 11)`` = the last 4 of ViT-S/16,
            ``(-1, )`` = the last block). Negative values count from the end.
        avgpool_patch_tokens: also append the mean of the patch tokens of
            the last selected block (after the final norm), as DINO/iBOT's
            ``avgpool_patchtokens``.
        frozen_stages: as ``VisionTransformer``; ``num_layers`` (= all,
            linear probing) freezes every parameter including the final
            norm. Frozen modules stay in eval mode under ``train()``.
        *args, **kwargs: ``VisionTransformer`` arguments. ``final_norm``
            must be True and ``out_type`` must be ``'cls_token'`` (the
            default here), ``with_cls_token`` True.

    Forward:
        ``x`` (B, 3, H, W) -> a 1-tuple holding a (B, :attr:`feat_dim`)
        tensor, ``feat_dim = len(out_indices) * C (+ C with
        avgpool_patch_tokens)``. The tuple form is what mmpretrain's
        ``ClsBatchNormNeck`` and ``LinearClsHead`` take.
    """

    def __init__(self,
                 *args,
                 out_indices: Union[int, Sequence[int]] = -1,
                 avgpool_patch_tokens: bool = False,
                 out_type: str = 'cls_token',
                 final_norm: bool = True,
                 **kwargs) -> None:
        if out_type != 'cls_token':
            raise ValueError(
                "ViTLinearFeatures: out_type must be 'cls_token' (the "
                f'feature is built from [CLS] tokens), got {out_type!r}.')
        if not final_norm:
            raise ValueError(
                'ViTLinearFeatures: final_norm must be True (DINO/iBOT '
                'normalise every selected block with the final norm).')
        if not isinstance(out_indices, int):
            # a list: mmpretrain rewrites negative entries in place
            out_indices = list(out_indices)
        super().__init__(
            *args,
            out_indices=out_indices,
            out_type=out_type,
            final_norm=final_norm,
            **kwargs)
        if len(set(self.out_indices)) != len(self.out_indices):
            raise ValueError('ViTLinearFeatures: out_indices has repeated '
                             f'blocks: {list(self.out_indices)}.')
        self.avgpool_patch_tokens = bool(avgpool_patch_tokens)
        # the parent returns the raw (B, extra + N, C) token sequences
        self.out_type = 'raw'

    @property
    def feat_dim(self) -> int:
        """Length of the output feature."""
        return self.embed_dims * (
            len(self.out_indices) + int(self.avgpool_patch_tokens))

    def train(self, mode: bool = True) -> 'ViTLinearFeatures':
        """Set train/eval mode, keeping frozen stages in eval mode."""
        super().train(mode)
        if mode and self.frozen_stages > 0:
            self._freeze_stages()
        return self

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor]:
        """(B, 3, H, W) -> ((B, feat_dim), )."""
        outs = super().forward(x)
        last_layer = len(self.layers) - 1
        tokens = [
            seq if idx == last_layer else self.ln1(seq)
            for idx, seq in zip(self.out_indices, outs)
        ]
        feats = [seq[:, 0] for seq in tokens]
        if self.avgpool_patch_tokens:
            feats.append(tokens[-1][:, self.num_extra_tokens:].mean(dim=1))
        return (torch.cat(feats, dim=-1), )
