"""ViT with a learnable mask token for masked image modelling (iBOT).

Zhou et al., "iBOT: Image BERT Pre-Training with Online Tokenizer",
ICLR 2022. A subclass of mmpretrain's ``VisionTransformer`` (like its
``BEiTPretrainViT``/``MaskFeatViT``), so every checkpoint key of the plain
ViT is unchanged and a pretrained backbone loads into
``mmpretrain.VisionTransformer`` (the extra ``mask_token`` is documented and
dropped by the exporter).
"""
from typing import Optional

import torch
import torch.nn as nn
from torch.utils.checkpoint import checkpoint
from mmengine.model.weight_init import trunc_normal_
from mmpretrain.models.backbones import VisionTransformer
from mmpretrain.models.utils import resize_pos_embed
from mmpretrain.registry import MODELS


@MODELS.register_module()
class iBOTViT(VisionTransformer):
    """Vision Transformer whose masked patch embeddings are replaced by a
    learnable ``mask_token`` before the position embedding is added.

    ``forward`` returns all tokens after the final norm:
    (B, 1 + N, C) with the [CLS] token first (``with_cls_token=True``).

    Args:
        arch: as :class:`mmpretrain.models.VisionTransformer`; ViT-S/16 is
            ``'deit-small'`` (384 dims, 12 layers, 6 heads), ViT-L/16
            ``'large'``. (``'small'`` in mmpretrain is NOT ViT-S.)
        init_official (bool): when not loading a pretrained checkpoint,
            initialise as the official iBOT/DINO ViT: truncated normal
            (std 0.02) for Linear weights, ``pos_embed`` and ``cls_token``,
            zero biases, LayerNorm (1, 0); the mask token starts at zero.
        with_cp (bool): activation checkpointing, a speed/memory switch
            (default False): in training with gradients enabled, each
            transformer layer runs under
            ``torch.utils.checkpoint.checkpoint(layer, x,
            use_reentrant=False)``, so its activations are recomputed in
            the backward pass instead of stored (about one extra forward of
            the layers, much less activation memory: what lets ViT-L/16
            fit its batch). Loss and gradients are those of
            ``with_cp=False`` (the RNG state, e.g. of drop path, is
            replayed in the recomputation); the eval-mode teacher and
            ``no_grad`` calls never checkpoint.
        **kwargs: passed to ``VisionTransformer`` (``out_type`` is forced to
            ``'raw'`` and ``out_indices`` to the last layer).
    """

    def __init__(self, arch='deit-small', init_official: bool = True,
                 with_cp: bool = False, **kwargs) -> None:
        for key in ('out_type', 'out_indices'):
            if key in kwargs:
                raise ValueError(
                    f'iBOTViT returns all tokens of the last layer; do not '
                    f'set {key}={kwargs[key]!r}')
        if kwargs.get('with_cls_token', True) is False:
            raise ValueError('iBOTViT needs with_cls_token=True')
        super().__init__(arch=arch, out_type='raw', out_indices=-1, **kwargs)
        self.init_official = init_official
        self.with_cp = bool(with_cp)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, self.embed_dims))

    def init_weights(self) -> None:
        super().init_weights()
        if isinstance(self.init_cfg, dict) and \
                self.init_cfg.get('type') == 'Pretrained':
            return
        if self.init_official:
            trunc_normal_(self.pos_embed, std=0.02)
            trunc_normal_(self.cls_token, std=0.02)
            for m in self.modules():
                if isinstance(m, nn.Linear):
                    trunc_normal_(m.weight, std=0.02)
                    if m.bias is not None:
                        nn.init.zeros_(m.bias)
                elif isinstance(m, nn.LayerNorm):
                    nn.init.ones_(m.weight)
                    nn.init.zeros_(m.bias)
        nn.init.zeros_(self.mask_token)

    def train(self, mode: bool = True) -> 'iBOTViT':
        super().train(mode)  # mmpretrain's BaseBackbone.train returns None
        return self

    def forward(self, x: torch.Tensor,
                mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        """
        Args:
            x: images (B, 3, H, W); H, W multiples of the patch size (local
                crops use an interpolated position embedding).
            mask: optional bool mask (B, N) or (B, h, w) of the patch grid;
                True = replace that patch embedding by ``mask_token``.
        Returns:
            tokens (B, 1 + N, C) after the final norm.
        """
        B = x.shape[0]
        x, patch_resolution = self.patch_embed(x)  # (B, N, C)
        if mask is not None:
            mask = mask.flatten(1)
            if mask.shape != x.shape[:2]:
                raise ValueError(
                    f'mask has {tuple(mask.shape)} entries per batch but the '
                    f'image gives {tuple(x.shape[:2])} patches')
            w = mask.unsqueeze(-1).to(x.dtype)  # (B, N, 1)
            x = x * (1 - w) + self.mask_token.to(x.dtype) * w
        x = torch.cat((self.cls_token.expand(B, -1, -1), x), dim=1)
        x = x + resize_pos_embed(
            self.pos_embed, self.patch_resolution, patch_resolution,
            mode=self.interpolate_mode,
            num_extra_tokens=self.num_extra_tokens)  # (B, 1 + N, C)
        x = self.drop_after_pos(x)
        x = self.pre_norm(x)
        use_cp = self.with_cp and self.training and torch.is_grad_enabled()
        for layer in self.layers:
            x = checkpoint(layer, x, use_reentrant=False) if use_cp else \
                layer(x)
        if self.final_norm:
            x = self.ln1(x)
        return x
