"""iBOT + equivariance-coherent reconstruction of intermediate transforms.

Wang, Quercia, Bruns, Morrison, Scharr, Krajsek, "Self-Supervised Learning
Based on Transformed Image Reconstruction for Equivariance-Coherent Feature
Representation", AAAI-26 (arXiv 2503.18753), Sec. 3.

The data preprocessor (:class:`EquiReconDataPreprocessor`) applies g_θ to
the second global view u (v2 = g_θ(u)) and makes the K targets
u_k = g_{kθ/(K+1)}(u). The projection head's output for both global views,
[CLS] and patch tokens alike, is split along features::

    z = neck(tokens)                      (G*B, 1+N, K_out)
    z_inv  = z[..., :K_out - d_equi]      -> the iBOT losses (teacher split alike)
    z_equi = z[..., K_out - d_equi:]      -> decoders, patch tokens only

and the K decoders of :class:`~mmequi.models.heads.EquiReconHead`
reconstruct the targets from the per-token concatenation
[z1_equi ; z2_equi] of v1 and v2 (as the student sees them, masked tokens
included)::

    L = L_iBOT(z_inv) + λ · (1/K) Σ_k MSE(D_k([z1_equi ; z2_equi]), u_k)
        (+ w · L_topk, see :class:`EasySampleRescue`)

``d_equi = 0`` turns the method off: the loss is exactly :class:`iBOT`'s on
the given views (note that the preprocessor still applies g_θ to v2).
"""
from typing import Dict, List, Optional, Tuple

import torch
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from ..utils.equi_recon import (build_equi_recon_head, config_d_equi,
                                patch_grid, rename_legacy_head_keys,
                                views_and_targets)
from .ibot import iBOT


def ibot_loss_sizes(loss: dict, neck, d_equi: int) -> dict:
    """``loss`` with ``out_dim`` / ``patch_out_dim`` = the neck's [CLS] /
    patch sizes minus ``d_equi`` (the dims the iBOT loss sees); filled in
    where absent or None, an error where given and different."""
    k_cls, k_patch = neck.out_channels, neck.patch_out_channels
    if not 0 <= d_equi < min(k_cls, k_patch):
        raise ValueError(f'd_equi={d_equi} must be in [0, '
                         f'{min(k_cls, k_patch)}) (the neck outputs '
                         f'{k_cls} [CLS] / {k_patch} patch dims)')
    loss = dict(loss)
    for key, size, what in (('out_dim', k_cls, '[CLS]'),
                            ('patch_out_dim', k_patch, 'patch')):
        if loss.get(key) is None:
            loss[key] = size - d_equi
        elif loss[key] != size - d_equi:
            raise ValueError(
                f'loss.{key}={loss[key]} but with head.d_equi={d_equi} the '
                f'iBOT loss sees the first {size} - {d_equi} = '
                f'{size - d_equi} {what} dims of the neck; set '
                f'loss.{key}={size - d_equi} or leave it None (derived)')
    return loss


@MODELS.register_module()
class iBOTEquiRecon(iBOT):
    """iBOT with the reconstruction task (and optional easy-sample rescue).

    Args:
        backbone, neck: as :class:`iBOT`.
        loss: :class:`iBOTLoss` config; ``out_dim`` / ``patch_out_dim`` are
            derived (the neck's sizes minus ``head.d_equi``) where absent or
            None, and must equal them where given.
        head: :class:`~mmequi.models.heads.EquiReconHead` config
            (``d_equi``, ``decoder``, ``loss``, ``topk``); its
            ``num_intermediate`` and ``view_index`` come from the data
            preprocessor.
        data_preprocessor: an ``EquiReconDataPreprocessor`` config (or a
            ``BatchMultiCropDataPreprocessor`` around one); it sets K and
            ``view_index``.
        **kwargs: further arguments of the base algorithm that follows
            in the MRO (e.g. :class:`DINOv2`'s ``separate_head``).

    Checkpoints from before the head (``decoders.*``, ...) load: their keys
    are renamed to ``head.*`` (:func:`rename_legacy_head_keys`).
    """

    def __init__(self, backbone: dict, neck: dict, loss: dict, head: dict,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None, **kwargs) -> None:
        # read by _ibot_loss_config, which iBOT.__init__ calls once the neck
        # is built (a plain attribute: nn.Module allows it before __init__)
        self._d_equi_of_config = config_d_equi(head, type(self).__name__)
        super().__init__(backbone=backbone, neck=neck, loss=loss,
                         data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg, **kwargs)
        if self.num_global != 2:
            raise ValueError('the method needs 2 global views, the iBOT '
                             f'loss has num_global={self.num_global}')
        self.head = build_equi_recon_head(head, self.data_preprocessor,
                                          type(self).__name__)
        self.k_cls_inv = self.ibot_loss.out_dim
        self.k_patch_inv = self.ibot_loss.patch_out_dim
        self.register_load_state_dict_pre_hook(rename_legacy_head_keys)

    def _ibot_loss_config(self, loss: dict) -> dict:
        return ibot_loss_sizes(loss, self.neck, self._d_equi_of_config)

    def _views_and_targets(self, inputs):
        return views_and_targets(inputs, self.head.num_intermediate,
                                 type(self).__name__)

    def _student_outputs_equi(self, s_tokens: torch.Tensor,
                              locals_: Optional[torch.Tensor],
                              index: torch.Tensor, inv_c: slice, inv_p: slice
                              ) -> Tuple[torch.Tensor, torch.Tensor,
                                         torch.Tensor]:
        """Student outputs with the method on: z_inv logits of the [CLS]
        tokens of all views (V*B, kc) and of the masked patch tokens at the
        flat ``index`` (M, kp), and z_equi of every patch token of the global views
        (G*B, N, d_equi). One neck MLP pass over the [CLS] and all patch
        tokens (the decoders need every patch token's bottleneck)."""
        cls_tokens = self._student_cls_tokens(s_tokens, locals_)  # (V*B, C)
        patches = s_tokens[:, 1:]  # (G*B, N, C)
        h_cls, h_patch = self.neck.embed_tokens(
            cls_tokens, patches.flatten(0, 1))  # (V*B, b), (G*B*N, b)
        h_patch = h_patch.unflatten(0, patches.shape[:2])  # (G*B, N, b)
        s_cls, s_patch = self.neck.project(
            h_cls, h_patch.flatten(0, 1).index_select(0, index), inv_c, inv_p)
        z_equi = self.neck.project_patch(h_patch, slice(inv_p.stop, None))
        return s_cls, s_patch, z_equi

    def loss(self, inputs, data_samples: List[DataSample],
             **kwargs) -> Dict[str, torch.Tensor]:
        views, targets = self._views_and_targets(inputs)
        d_equi, topk = self.head.d_equi, self.head.topk
        if not d_equi and topk is None:
            return super().loss(views, data_samples)  # exactly iBOT
        self._check_temperatures()
        globals_, locals_, masks = self._split_views(views, data_samples)
        index = self._mask_index(data_samples, masks)  # (M,)
        kc, kp = self.k_cls_inv, self.k_patch_inv
        G, B = self.num_global, globals_.shape[0] // self.num_global

        inv_c, inv_p = slice(0, kc), slice(0, kp)  # prototype rows of z_inv
        t_cls, t_patch, t_mean = self._teacher_outputs(globals_, index,
                                                       inv_c, inv_p)
        s_tokens = self.backbone(globals_, mask=masks)  # (G*B, 1+N, C)
        if d_equi:
            s_cls, s_patch, z_equi = self._student_outputs_equi(
                s_tokens, locals_, index, inv_c, inv_p)
        else:
            s_cls, s_patch = self._student_outputs(
                s_tokens, locals_, index, inv_c, inv_p)  # (V*B, kc), (M, kp)
        losses = self._distill(s_cls, s_patch, t_cls, t_patch, masks, index,
                               t_mean, s_tokens)
        if d_equi:
            losses.update(self.head.loss(
                z_equi.unflatten(0, (G, B)),  # (2, B, N, d)
                patch_grid(self.backbone, globals_), targets))
        if topk is not None:
            # strong views' student [CLS] -> the other view's teacher output
            losses['loss_topk'] = self.head.rescue_loss(
                s_cls[:G * B].unflatten(0, (G, B)),
                globals_.unflatten(0, (G, B)), t_cls.unflatten(0, (G, B)),
                lambda x: self.neck.forward_cls(
                    self.backbone(x, cls_only=True)[:, 0], inv_c),
                self.data_preprocessor)
        return losses

    @torch.no_grad()
    def equi_features(self, inputs, data_samples: List[DataSample]
                      ) -> Tuple[torch.Tensor, Tuple[int, int]]:
        """``(z_equi, hw)``: the student's equivariant patch features of the
        two global views, (2, B, N, d_equi) in view order, as the decoders
        see them in training (masks applied), and the token grid."""
        if not self.head.d_equi:
            raise RuntimeError('d_equi=0: the model has no decoders')
        views, _ = self._views_and_targets(inputs)
        globals_, _, masks = self._split_views(views, data_samples)
        G, B = self.num_global, globals_.shape[0] // self.num_global
        tokens = self.backbone(globals_, mask=masks)
        z = self.neck.forward_patch(tokens[:, 1:],
                                    slice(self.k_patch_inv, None))
        return z.unflatten(0, (G, B)), patch_grid(self.backbone, globals_)

    @torch.no_grad()
    def decode_equi(self, z_equi: torch.Tensor, hw) -> List[torch.Tensor]:
        """K reconstructions (B, 3, H, W) from ``z_equi`` (2, B, N, d) in
        view order (e.g. with one view's features swapped, for
        :func:`~mmequi.evaluation.recon_diagnostic`)."""
        return self.head.decode(z_equi, hw)

    @torch.no_grad()
    def reconstruct(self, inputs, data_samples: List[DataSample]
                    ) -> List[torch.Tensor]:
        """For visualisation: the K reconstructions (B, 3, H, W) of a batch
        (student, masks applied as in training)."""
        if not self.head.d_equi:
            return []
        return self.decode_equi(*self.equi_features(inputs, data_samples))
