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

and K independent decoders reconstruct the targets from the per-token
concatenation [z1_equi ; z2_equi] of v1 and v2 (as the student sees them,
masked tokens included)::

    L = L_iBOT(z_inv) + λ · (1/K) Σ_k MSE(D_k([z1_equi ; z2_equi]), u_k)
        (+ w · L_topk, see :class:`EasySampleRescue`)

``d_equi = 0`` turns the method off: the loss is exactly :class:`iBOT`'s on
the given views (note that the preprocessor still applies g_θ to v2).
"""
import copy
from typing import Dict, List, Optional

import torch
import torch.nn as nn
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from .ibot import iBOT


def build_decoders(cfg: dict, d_equi: int, num: int) -> nn.ModuleList:
    """K independent decoders; ``in_channels`` follows from ``d_equi``:
    ``2·d_equi`` for decoders of the concatenation, ``d_equi`` (per view)
    for pair decoders (``CrossAttnReconDecoder``)."""
    cfg = copy.deepcopy(cfg)
    pair = 'CrossAttn' in str(cfg.get('type', ''))
    expected = d_equi if pair else 2 * d_equi
    if cfg.setdefault('in_channels', expected) != expected:
        raise ValueError(
            f"decoder in_channels={cfg['in_channels']} but d_equi={d_equi} "
            f'gives {expected} ({"per view" if pair else "[z1; z2]"})')
    return nn.ModuleList(MODELS.build(copy.deepcopy(cfg)) for _ in range(num))


def decode(decoders: nn.ModuleList, z_equi: torch.Tensor, hw,
           view_index: int = 1) -> List[torch.Tensor]:
    """z_equi (2, B, N, d) of the two global views -> K images
    (B, 3, H, W). Decoders always see [z of the plain view ; z of g_θ's
    view]; pair decoders (cross-attention) get the two separately."""
    if view_index == 0:
        z_equi = z_equi.flip(0)
    z1, z2 = z_equi[0], z_equi[1]
    if 'CrossAttn' in type(decoders[0]).__name__:
        return [dec(z1, z2, hw) for dec in decoders]
    z = torch.cat([z1, z2], dim=-1)  # (B, N, 2·d)
    return [dec(z, hw) for dec in decoders]


def patch_grid(backbone, images: torch.Tensor):
    """(h, w) token grid of a ViT for images (..., H, W)."""
    p = backbone.patch_embed.projection.stride
    return images.shape[-2] // p[0], images.shape[-1] // p[1]


def views_and_targets(inputs, num_intermediate: int, owner: str):
    """Unpack ``EquiReconDataPreprocessor``'s ``inputs`` into the views and
    the (K, B, 3, H, W) targets, checking K."""
    if not isinstance(inputs, dict) or set(inputs) != {'views', 'targets'}:
        raise TypeError(
            f'{owner} expects inputs=dict(views=[...], targets=...) from '
            "EquiReconDataPreprocessor; check the config's data_preprocessor")
    targets = inputs['targets']  # (K, B, 3, H, W)
    if targets.shape[0] != num_intermediate:
        raise ValueError(
            f'the preprocessor made {targets.shape[0]} targets, the model '
            f'has num_intermediate={num_intermediate}')
    return inputs['views'], targets


def split_sizes(neck, loss, d_equi: int):
    """(K_cls_inv, K_patch_inv), validated against the loss config."""
    k_cls, k_patch = neck.out_channels, neck.patch_out_channels
    if not 0 <= d_equi < min(k_cls, k_patch):
        raise ValueError(f'd_equi={d_equi} must be in [0, '
                         f'{min(k_cls, k_patch)}) (the neck outputs '
                         f'{k_cls} [CLS] / {k_patch} patch dims)')
    k_cls_inv, k_patch_inv = k_cls - d_equi, k_patch - d_equi
    if (loss.out_dim, loss.patch_out_dim) != (k_cls_inv, k_patch_inv):
        raise ValueError(
            f'with d_equi={d_equi} the iBOT loss sees the first '
            f'{k_cls_inv} [CLS] / {k_patch_inv} patch dims; set '
            f'loss.out_dim={k_cls_inv}, loss.patch_out_dim={k_patch_inv} '
            f'(got {loss.out_dim}, {loss.patch_out_dim})')
    return k_cls_inv, k_patch_inv


@MODELS.register_module()
class iBOTEquiRecon(iBOT):
    """iBOT with the reconstruction task (and optional easy-sample rescue).

    Args:
        backbone, neck, loss: as :class:`iBOT`; ``loss.out_dim`` /
            ``loss.patch_out_dim`` must be the neck's sizes minus ``d_equi``.
        d_equi: equivariant feature size (paper default 2048 of 8192).
        num_intermediate: K targets (2); must match the preprocessor.
        decoder: config of one decoder (``ReconDecoder`` or
            ``CrossAttnReconDecoder``); K copies are built.
        recon_loss: ``ReconLoss`` config (its ``loss_weight`` is λ = 1).
        topk: optional :class:`EasySampleRescue` config.
        view_index: which global view carries g_θ (1, the second).
    """

    def __init__(self, backbone: dict, neck: dict, loss: dict,
                 d_equi: int = 2048, num_intermediate: int = 2,
                 decoder: dict = dict(type='ReconDecoder'),
                 recon_loss: dict = dict(type='ReconLoss', loss_weight=1.0),
                 topk: Optional[dict] = None, view_index: int = 1,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(backbone=backbone, neck=neck, loss=loss,
                         data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)
        if num_intermediate < 1:
            raise ValueError(f'num_intermediate={num_intermediate} < 1')
        if view_index not in (0, 1) or self.num_global != 2:
            raise ValueError('the method needs 2 global views and '
                             f'view_index in (0, 1), got {view_index}')
        self.d_equi = d_equi
        self.num_intermediate = num_intermediate
        self.view_index = view_index
        self.k_cls_inv, self.k_patch_inv = split_sizes(
            self.neck, self.ibot_loss, d_equi)
        if d_equi:
            self.decoders = build_decoders(decoder, d_equi, num_intermediate)
            self.recon_loss = MODELS.build(recon_loss)
        self.topk = MODELS.build(topk) if topk else None

    def _views_and_targets(self, inputs):
        return views_and_targets(inputs, self.num_intermediate,
                                 type(self).__name__)

    def loss(self, inputs, data_samples: List[DataSample],
             **kwargs) -> Dict[str, torch.Tensor]:
        views, targets = self._views_and_targets(inputs)
        if not self.d_equi and self.topk is None:
            return super().loss(views, data_samples)  # exactly iBOT
        self._check_temperatures()
        globals_, locals_, masks = self._split_views(views, data_samples)
        kc, kp = self.k_cls_inv, self.k_patch_inv
        G, B = self.num_global, globals_.shape[0] // self.num_global

        inv_c, inv_p = slice(0, kc), slice(0, kp)  # prototype rows of z_inv
        t_cls, t_patch = self._teacher_outputs(globals_, inv_c, inv_p)
        s_tokens = self.backbone(globals_, mask=masks)  # (G*B, 1+N, C)
        s_cls = self._student_cls(s_tokens, locals_, inv_c)  # (V*B, kc)
        if self.d_equi:
            # the bottleneck of every patch token; z_inv prototypes only for
            # the masked tokens (iBOT), z_equi ones for all (decoders)
            h = self.neck.embed(s_tokens[:, 1:])  # (G*B, N, bottleneck)
            s_patch = self.neck.project_patch(h[masks], inv_p)  # (M, kp)
            z_equi = self.neck.project_patch(h, slice(kp, None))
        else:
            s_patch = self.neck.forward_patch(s_tokens[:, 1:][masks], inv_p)
        losses = self._distill(s_cls, s_patch, t_cls, t_patch, masks)
        if self.d_equi:
            z_equi = z_equi.unflatten(0, (G, B))  # (2, B, N, d)
            preds = decode(self.decoders, z_equi,
                           patch_grid(self.backbone, globals_),
                           self.view_index)
            losses['loss_recon'] = self.recon_loss(preds, targets)
        if self.topk is not None:
            losses['loss_topk'] = self._topk_loss(
                s_cls[:G * B].detach().unflatten(0, (G, B)),
                globals_.unflatten(0, (G, B)), t_cls.unflatten(0, (G, B)))
        return losses

    def _topk_loss(self, z: torch.Tensor, views: torch.Tensor,
                   t_cls: torch.Tensor) -> torch.Tensor:
        """Rescue easy samples: the k pairs whose two views' student
        outputs z (2, B, K) agree most get strongly augmented views
        (2, k, 3, H, W); their student outputs must match the teacher's
        output of the *other* original view (cosine)."""
        idx = self.topk.select(z[0], z[1])  # (k,)
        strong = self.topk.augment(views[:, idx].flatten(0, 1),
                                   self.data_preprocessor)  # (2k, 3, H, W)
        out = self.neck.forward_cls(self.backbone(strong)[:, 0],
                                    slice(0, self.k_cls_inv))
        target = t_cls[:, idx].flip(0).flatten(0, 1)  # (2k, K): other view
        return self.topk.loss(out, target)

    @torch.no_grad()
    def equi_features(self, inputs, data_samples: List[DataSample]):
        """``(z_equi, hw)``: the student's equivariant patch features of the
        two global views, (2, B, N, d_equi) in view order, as the decoders
        see them in training (masks applied), and the token grid."""
        if not self.d_equi:
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
        return decode(self.decoders, z_equi, hw, self.view_index)

    @torch.no_grad()
    def reconstruct(self, inputs, data_samples: List[DataSample]):
        """For visualisation: the K reconstructions (B, 3, H, W) of a batch
        (student, masks applied as in training)."""
        if not self.d_equi:
            return []
        return self.decode_equi(*self.equi_features(inputs, data_samples))
