"""SimCLR base loss + equivariance-coherent reconstruction.

The paper's Table 4 row "SimCLR + ours" (Wang et al., AAAI-26, arXiv
2503.18753) on the SimCLR base (Chen et al., ICML 2020). As for VICReg + ours
(:class:`VICRegEquiRecon`), a ViT's tokens are projected to one embedding
per token and split along features::

    e = projector(tokens)                  (2, B, 1+N, embed)
    e_inv  = e[..., :embed - d_equi]   [CLS] -> InfoNCE(v1, v2)
    e_equi = e[..., embed - d_equi:]   patches of v1, v2 -> K decoders

    L = InfoNCE(e1_inv_cls, e2_inv_cls)
        + λ · (1/K) Σ_k MSE(D_k([e1_equi ; e2_equi]), u_k)  (+ w · L_topk)

with the views and targets of :class:`EquiReconDataPreprocessor` (two
global views, no local crops, no masks). SimCLR's projection output is the
contrastive embedding itself (no expander). ``d_equi = 0`` gives plain
SimCLR (NT-Xent on the projected [CLS] token).
"""
from typing import Dict, List, Optional

import torch
from mmpretrain.models.selfsup.base import BaseSelfSupervisor
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from ..utils.equi_recon import (TokenSplitEquiRecon, build_equi_recon_head,
                                invariant_dims, raw_token_backbone)


@MODELS.register_module()
class SimCLREquiRecon(TokenSplitEquiRecon, BaseSelfSupervisor):
    """Args:
        backbone: a ``VisionTransformer`` config; it is built with
            ``out_type='raw'`` (all tokens of the last layer).
        projector: :class:`MLPNeck` config, tokens -> ``embed`` features.
        head: :class:`~mmequi.models.heads.EquiReconHead` config
            (``d_equi``: the equivariant part of the embedding; ``decoder``,
            ``loss``, ``topk``); K and ``view_index`` come from the data
            preprocessor.
        loss: :class:`InfoNCELoss` config (τ, gathering of negatives).
        data_preprocessor: an ``EquiReconDataPreprocessor`` config (or a
            ``BatchMultiCropDataPreprocessor`` around one).
        init_cfg: mmengine init config.
    """

    def __init__(self, backbone: dict, projector: dict, head: dict,
                 loss: dict = dict(type='InfoNCELoss'),
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        owner = type(self).__name__
        super().__init__(backbone=raw_token_backbone(backbone, owner),
                         neck=projector, data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)
        self.k_inv = invariant_dims(self.neck.out_channels, head, owner)
        self.infonce_loss = MODELS.build(loss)
        self.head = build_equi_recon_head(head, self.data_preprocessor,
                                          owner)

    def loss(self, inputs, data_samples: List[DataSample],
             **kwargs) -> Dict[str, torch.Tensor]:
        """``loss_infonce`` (+ ``loss_recon`` when ``d_equi > 0``,
        + ``loss_topk`` with a rescue config) for the two views."""
        e, views, targets = self._embed_views(inputs)
        inv = e[:, :, 0, :self.k_inv]  # (2, B, k_inv) [CLS]
        losses = self.infonce_loss(inv[0], inv[1])
        losses.update(self.method_losses(e, views, targets))
        return losses
