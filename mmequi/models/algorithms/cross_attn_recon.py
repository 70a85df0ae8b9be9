"""Cross-attention reconstruction of one view on a VICReg base.

The predecessor model [X] (Wang, Krajsek and Scharr, "Equivariant
Representation Learning for Augmentation-based Self-Supervised Learning via
Image Reconstruction", arXiv 2412.03314; the "cross_atten_recon" row of
Table 1 of Wang et al., AAAI-26, arXiv 2503.18753). Two augmented views
v1, v2 of an image go through one shared encoder; its 512-d embedding is
split into an invariant half, trained with a VICReg/SIE-style loss, and an
equivariant half; a cross-attention block blends the equivariant features of
the two views and a decoder reconstructs one view from the result. On a
ViT every token is embedded and split (as in
:class:`~mmequi.models.VICRegEquiRecon`)::

    e = projector(backbone(v))               (2, B, 1+N, E)   E = 512
    z_inv  = e[:, :, 0, :E - d]              (2, B, E - d)    [CLS]
    z_equi = e[:, :, 1:, E - d:]             (2, B, N, d)     patches, d = 256
    r      = recon_view, o = 1 - r
    v̂_r    = D(q = z_equi[o], kv = z_equi[r], (h, w))   (B, 3, H, W)

    L = VICReg(expander(z_inv[0]), expander(z_inv[1]))
        + λ · 1/(B·3·H·W) ||v̂_r − v_r||²

with D = :class:`~mmequi.models.heads.CrossAttnReconDecoder` (one pre-norm
cross-attention block, queries from its first input, keys/values from its
second, then the light convolutional decoder) and v_r the normalised view
as the model receives it. ``λ = 0`` gives exactly the VICReg loss and
gradients of the invariant half (tested).

What [X] publishes and what is ours:

* published: two views, shared encoder, 512-d embedding split 256
  invariant / 256 equivariant, VICReg/SIE-style loss on the invariant part,
  cross-attention between the two views' equivariant parts, reconstruction
  of one view with an MSE loss;
* not published, ours: which view is reconstructed and which one gives the
  queries. We reconstruct v1 (``recon_view=0``) and take the *queries from
  the other view* (v2) and the keys/values from v1: the decoder's residual
  stream then starts from v2's tokens, so v1's content reaches the image
  only through the attention over v1's equivariant tokens (with queries
  from v1 the block could pass v1 through its residual and ignore v2);
  the token-level form on a ViT (the paper's encoder is a ResNet with one
  pooled vector per view), the decoder widths and λ = 1.

Data: the two views of the VICReg pipeline (``iBOTMultiCrop`` with
``num_local=0``) normalised by mmpretrain's ``SelfSupDataPreprocessor``;
the target is the view itself, not intermediate transformed images, so
``EquiReconDataPreprocessor`` (whose targets this model would not use) is
refused.
"""
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from mmpretrain.models.selfsup.base import BaseSelfSupervisor
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from ..data_preprocessors.equi_recon_data_preprocessor import \
    EquiReconDataPreprocessor
from ..heads.equi_recon_head import decoder_input_mode
from ..utils.equi_recon import (TokenSplitEquiRecon, build_expander,
                                patch_grid, raw_token_backbone, split_dims)


@MODELS.register_module()
class CrossAttnRecon(TokenSplitEquiRecon, BaseSelfSupervisor):
    """VICReg + cross-attention reconstruction of one view ([X]); see the
    module docstring for the loss, the shapes and what is ours.

    Args:
        backbone: a ``VisionTransformer`` config; built with
            ``out_type='raw'`` (all tokens of the last layer).
        projector: :class:`MLPNeck` config, tokens -> ``embed_dims`` (512).
        expander: :class:`MLPNeck` config for the VICReg loss;
            ``in_channels`` (= ``embed_dims - d_equi``) is derived where
            absent and must equal it where given.
        decoder: a decoder with ``input_mode = 'pair'``
            (:class:`~mmequi.models.heads.CrossAttnReconDecoder`);
            ``in_channels`` (= ``d_equi``) is derived likewise.
        d_equi: the equivariant width, ``0 < d_equi < embed_dims`` (256).
        recon_view: index of the reconstructed view, 0 (v1, default) or 1;
            its equivariant tokens are the keys/values, the other view's
            the queries.
        loss: :class:`VICRegLoss` config.
        recon_loss: :class:`ReconLoss` config (``loss_weight`` = λ).
        data_preprocessor: a ``SelfSupDataPreprocessor`` config (two
            normalised views).
    """

    def __init__(self, backbone: dict, projector: dict, expander: dict,
                 decoder: dict, d_equi: int = 256, recon_view: int = 0,
                 loss: dict = dict(type='VICRegLoss'),
                 recon_loss: dict = dict(type='ReconLoss', loss_weight=1.0),
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        name = type(self).__name__
        super().__init__(backbone=raw_token_backbone(backbone, name),
                         neck=projector, data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)
        if isinstance(self.data_preprocessor, EquiReconDataPreprocessor):
            raise TypeError(
                f"{name} reconstructs a view itself: use data_preprocessor="
                "dict(type='SelfSupDataPreprocessor', ...); "
                'EquiReconDataPreprocessor makes intermediate targets, which '
                'this model does not use')
        if recon_view not in (0, 1):
            raise ValueError(f'{name}: recon_view={recon_view!r} must be 0 '
                             'or 1 (one of the two views)')
        embed = self.neck.out_channels
        self.k_inv = split_dims(embed, d_equi, name, key='d_equi', low=1)
        self.d_equi, self.recon_view = d_equi, recon_view
        self.expander = build_expander(expander, embed, self.k_inv, name)
        self.vicreg_loss = MODELS.build(loss)
        if decoder_input_mode(decoder) != 'pair':
            raise TypeError(
                f"{name}: decoder {decoder['type']} must take the two views "
                "separately (input_mode='pair', e.g. CrossAttnReconDecoder)")
        decoder = dict(decoder)
        if decoder.setdefault('in_channels', d_equi) != d_equi:
            raise ValueError(f"{name}: decoder.in_channels="
                             f"{decoder['in_channels']} but d_equi={d_equi} "
                             '(leave it out: it is derived)')
        self.decoder = MODELS.build(decoder)
        self.recon_loss = MODELS.build(recon_loss)

    def _views(self, inputs) -> List[torch.Tensor]:
        """The two views (B, 3, H, W) of ``SelfSupDataPreprocessor``."""
        if not isinstance(inputs, (list, tuple)) or not all(
                isinstance(v, torch.Tensor) for v in inputs):
            raise TypeError(
                f'{type(self).__name__} expects inputs=[v1, v2] from '
                'SelfSupDataPreprocessor, got '
                f'{type(inputs).__name__}'
                + (f' with keys {sorted(inputs)}' if isinstance(inputs, dict)
                   else '') + "; check the config's data_preprocessor")
        return list(inputs)

    def decode(self, e: torch.Tensor, hw: Tuple[int, int]) -> torch.Tensor:
        """The reconstruction (B, 3, H, W) of view ``recon_view`` from the
        embedding ``e`` (2, B, 1+N, embed) of both views: queries from the
        other view's equivariant patch tokens, keys/values from its own."""
        z = e[:, :, 1:, self.k_inv:]  # (2, B, N, d_equi)
        r = self.recon_view
        return self.decoder(z[1 - r], z[r], hw)

    def loss(self, inputs: Sequence[torch.Tensor],
             data_samples: List[DataSample],
             **kwargs) -> Dict[str, torch.Tensor]:
        """``loss_inv``, ``loss_var``, ``loss_cov`` (VICReg on the invariant
        [CLS] part) and ``loss_recon`` (λ · MSE of the reconstructed
        view)."""
        views = self._views(inputs)
        e = self._embed_pair(views)  # (2, B, 1+N, embed)
        z = self.expander(e[:, :, 0, :self.k_inv])  # (2, B, D_exp)
        losses = self.vicreg_loss(z[0], z[1])
        recon = self.decode(e, patch_grid(self.backbone, views[0]))
        losses['loss_recon'] = self.recon_loss(
            recon[None], views[self.recon_view][None])  # K = 1
        return losses

    @torch.no_grad()
    def reconstruct(self, inputs: Sequence[torch.Tensor],
                    data_samples: List) -> List[torch.Tensor]:
        """For visualisation: ``[v̂_r]``, the reconstruction (B, 3, H, W)."""
        views = self._views(inputs)
        return [self.decode(self._embed_pair(views),
                            patch_grid(self.backbone, views[0]))]
