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
from typing import Dict, List, Optional

import torch
from mmpretrain.models.selfsup.base import BaseSelfSupervisor
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from ..utils.equi_recon import (TokenSplitEquiRecon, build_equi_recon_head,
                                build_expander, invariant_dims,
                                raw_token_backbone, rename_legacy_head_keys)


@MODELS.register_module()
class VICRegEquiRecon(TokenSplitEquiRecon, BaseSelfSupervisor):
    """Args:
        backbone: a ``VisionTransformer`` config; it is built with
            ``out_type='raw'`` (all tokens of the last layer).
        projector: :class:`MLPNeck` config, tokens -> ``embed_dims``.
        expander: :class:`MLPNeck` config for the VICReg loss;
            ``in_channels`` (= ``embed_dims - head.d_equi``) is derived where
            absent and must equal it where given.
        loss: :class:`VICRegLoss` config.
        head: :class:`~mmequi.models.heads.EquiReconHead` config
            (``d_equi``: equivariant part of the embedding, 256 of 512 for
            the even split; ``decoder``, ``loss``, ``topk``); K and
            ``view_index`` come from the data preprocessor.
        data_preprocessor: an ``EquiReconDataPreprocessor`` config (or a
            ``BatchMultiCropDataPreprocessor`` around one).

    Checkpoints from before the head (``decoders.*``, ...) load: their keys
    are renamed to ``head.*`` (:func:`rename_legacy_head_keys`).
    """

    def __init__(self, backbone: dict, projector: dict, expander: dict,
                 head: dict, loss: dict = dict(type='VICRegLoss'),
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(backbone=raw_token_backbone(
                             backbone, type(self).__name__), neck=projector,
                         data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)
        embed = self.neck.out_channels
        self.k_inv = invariant_dims(embed, head, type(self).__name__)
        # built in the order of the layout before the head (expander, loss,
        # decoders): the same initial weights for a seed, and the optimizer
        # state of old checkpoints keeps its parameter order
        self.expander = build_expander(expander, embed, self.k_inv,
                                       type(self).__name__)
        self.vicreg_loss = MODELS.build(loss)
        self.head = build_equi_recon_head(head, self.data_preprocessor,
                                          type(self).__name__)
        self.register_load_state_dict_pre_hook(rename_legacy_head_keys)

    def loss(self, inputs, data_samples: List[DataSample],
             **kwargs) -> Dict[str, torch.Tensor]:
        e, views, targets = self._embed_views(inputs)
        z = self.expander(e[:, :, 0, :self.k_inv])  # (2, B, D_exp)
        losses = self.vicreg_loss(z[0], z[1])
        losses.update(self.method_losses(e, views, targets))
        return losses
