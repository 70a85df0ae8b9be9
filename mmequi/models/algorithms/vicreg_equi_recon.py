"""VICReg/SIE-style base loss + equivariance-coherent reconstruction.

The paper's Table 1 rows "Ours(VICReg, aug, target)" (Wang et al., AAAI-26,
arXiv 2503.18753), following SIE's even split (Garrido et al., ICML 2023):
a ViT's tokens are projected to a 512-d embedding per token and split::

    e = projector(tokens)                  (2, B, 1+N, 512)
    e_inv  = e[..., :512 - d_equi]   [CLS] -> expander -> VICReg(v1, v2)
    e_equi = e[..., 512 - d_equi:]   patches of v1, v2 -> K decoders

    L = VICReg(expander(e1_inv_cls), expander(e2_inv_cls))
        + λ · (1/K) Σ_k MSE(D_k([e1_equi ; e2_equi]), u_k)  (+ w · L_topk)

with the views and targets of :class:`EquiReconDataPreprocessor`
(two global views, no local crops, no masks). ``d_equi = 0`` gives plain
VICReg on the [CLS] embedding.
"""
import copy
from typing import Dict, List, Optional

import torch
from mmpretrain.models.selfsup.base import BaseSelfSupervisor
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from .ibot_equi_recon import (build_decoders, decode, patch_grid,
                              views_and_targets)


@MODELS.register_module()
class VICRegEquiRecon(BaseSelfSupervisor):
    """Args:
        backbone: a ``VisionTransformer`` config; it is built with
            ``out_type='raw'`` (all tokens of the last layer).
        projector: :class:`MLPNeck` config, tokens -> ``embed_dims``.
        expander: :class:`MLPNeck` config for the VICReg loss
            (``in_channels`` = ``embed_dims - d_equi``).
        loss: :class:`VICRegLoss` config.
        d_equi: equivariant part of the embedding (256 of 512: even split).
        num_intermediate, decoder, recon_loss, topk, view_index: as
            :class:`iBOTEquiRecon`.
    """

    def __init__(self, backbone: dict, projector: dict, expander: dict,
                 loss: dict = dict(type='VICRegLoss'), d_equi: int = 256,
                 num_intermediate: int = 2,
                 decoder: dict = dict(type='ReconDecoder'),
                 recon_loss: dict = dict(type='ReconLoss', loss_weight=1.0),
                 topk: Optional[dict] = None, view_index: int = 1,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        backbone = copy.deepcopy(backbone)
        for key, value in (('out_type', 'raw'), ('out_indices', -1)):
            if backbone.setdefault(key, value) != value:
                raise ValueError(f'VICRegEquiRecon needs backbone.{key}='
                                 f'{value!r}, got {backbone[key]!r}')
        super().__init__(backbone=backbone, neck=projector,
                         data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)
        embed = self.neck.out_channels
        if not 0 <= d_equi < embed:
            raise ValueError(f'd_equi={d_equi} must be in [0, {embed})')
        self.expander = MODELS.build(expander)
        first = self.expander.layers[0]
        if first.in_features != embed - d_equi:
            raise ValueError(
                f'expander.in_channels={first.in_features} but the '
                f'invariant part has {embed} - {d_equi} = {embed - d_equi} '
                'dims')
        self.vicreg_loss = MODELS.build(loss)
        self.d_equi, self.k_inv = d_equi, embed - d_equi
        self.num_intermediate, self.view_index = num_intermediate, view_index
        if view_index not in (0, 1):
            raise ValueError(f'view_index={view_index} must be 0 or 1')
        if d_equi:
            self.decoders = build_decoders(decoder, d_equi, num_intermediate)
            self.recon_loss = MODELS.build(recon_loss)
        self.topk = MODELS.build(topk) if topk else None

    def extract_feat(self, inputs: torch.Tensor) -> torch.Tensor:
        """All tokens (B, 1 + N, C) of the backbone."""
        return self.backbone(inputs)[0]

    def _embed(self, images: torch.Tensor) -> torch.Tensor:
        return self.neck(self.extract_feat(images))  # (n, 1+N, embed)

    def _decode(self, e: torch.Tensor, views) -> List[torch.Tensor]:
        """K images from the equivariant patch embeddings e[..., k_inv:] of
        the two views, e: (2, B, 1+N, embed)."""
        return decode(self.decoders, e[:, :, 1:, self.k_inv:],
                      patch_grid(self.backbone, views[0]), self.view_index)

    @torch.no_grad()
    def equi_features(self, inputs, data_samples: List[DataSample]):
        """``(e_equi, hw)``: the equivariant patch embeddings of the two
        views, (2, B, N, d_equi) in view order, and the token grid."""
        if not self.d_equi:
            raise RuntimeError('d_equi=0: the model has no decoders')
        views = inputs['views']
        e = self._embed(torch.cat(views)).unflatten(0, (2, views[0].shape[0]))
        return e[:, :, 1:, self.k_inv:], patch_grid(self.backbone, views[0])

    @torch.no_grad()
    def decode_equi(self, z_equi: torch.Tensor, hw) -> List[torch.Tensor]:
        """K reconstructions (B, 3, H, W) from ``z_equi`` (2, B, N, d)."""
        return decode(self.decoders, z_equi, hw, self.view_index)

    @torch.no_grad()
    def reconstruct(self, inputs, data_samples: List[DataSample]):
        """For visualisation: the K reconstructions (B, 3, H, W)."""
        if not self.d_equi:
            return []
        return self.decode_equi(*self.equi_features(inputs, data_samples))

    def loss(self, inputs, data_samples: List[DataSample],
             **kwargs) -> Dict[str, torch.Tensor]:
        views, targets = views_and_targets(inputs, self.num_intermediate,
                                           type(self).__name__)
        if len(views) != 2:
            raise ValueError(f'VICRegEquiRecon uses 2 views, got '
                             f'{len(views)} (set num_local=0)')
        B = views[0].shape[0]
        e = self._embed(torch.cat(views)).unflatten(0, (2, B))
        z = self.expander(e[:, :, 0, :self.k_inv])  # (2, B, D_exp)
        losses = self.vicreg_loss(z[0], z[1])
        if self.d_equi:
            preds = self._decode(e, views)
            losses['loss_recon'] = self.recon_loss(preds, targets)
        if self.topk is not None:
            inv = e[:, :, 0, :self.k_inv]  # (2, B, k_inv)
            idx = self.topk.select(inv[0].detach(), inv[1].detach())
            strong = self.topk.augment(
                torch.stack(views)[:, idx].flatten(0, 1),
                self.data_preprocessor)  # (2k, 3, H, W)
            out = self._embed(strong)[:, 0, :self.k_inv]
            target = inv[:, idx].flip(0).flatten(0, 1)  # other view
            losses['loss_topk'] = self.topk.loss(out, target)
        return losses
