"""What the equivariance-coherent reconstruction algorithms share.

:class:`~mmequi.models.iBOTEquiRecon` and
:class:`~mmequi.models.VICRegEquiRecon` (Wang et al., AAAI-26, arXiv
2503.18753) both take their views and targets from
:class:`~mmequi.models.data_preprocessors.EquiReconDataPreprocessor` and hand
the equivariant features to an :class:`~mmequi.models.heads.EquiReconHead`.
This module builds that head from the preprocessor (the one source of K and
``view_index``), unpacks the preprocessor's output, and renames the keys of
checkpoints written before the head existed.
"""
import copy
import logging
from typing import Dict, List, Tuple

import torch
import torch.nn as nn
from mmengine.logging import print_log
from mmpretrain.registry import MODELS

from ..data_preprocessors.equi_recon_data_preprocessor import \
    EquiReconDataPreprocessor

#: keys set on the data preprocessor and copied into the head
FROM_PREPROCESSOR = ('num_intermediate', 'view_index')

#: top-level submodules of the algorithms before the head (old checkpoints)
LEGACY_HEAD_PARTS = ('decoders', 'recon_loss', 'topk')


def equi_recon_preprocessor(data_preprocessor: nn.Module,
                            owner: str) -> EquiReconDataPreprocessor:
    """The :class:`EquiReconDataPreprocessor` of a model (unwrapping
    ``BatchMultiCropDataPreprocessor.inner``)."""
    pre = getattr(data_preprocessor, 'inner', data_preprocessor)
    if not isinstance(pre, EquiReconDataPreprocessor):
        raise TypeError(
            f'{owner} needs data_preprocessor=dict(type='
            "'EquiReconDataPreprocessor', ...) (or a "
            'BatchMultiCropDataPreprocessor around one), got '
            f'{type(pre).__name__}')
    return pre


def config_d_equi(head: dict, owner: str) -> int:
    """``d_equi`` of a head config (the algorithms size their loss or
    expander with it before the head is built)."""
    if not isinstance(head, dict) or 'd_equi' not in head:
        raise ValueError(f"{owner} needs head=dict(type='EquiReconHead', "
                         f'd_equi=..., ...), got {head!r}')
    return head['d_equi']


def build_equi_recon_head(head: dict, data_preprocessor: nn.Module,
                          owner: str) -> nn.Module:
    """Build the head config ``head`` with ``num_intermediate`` and
    ``view_index`` taken from the model's data preprocessor; a value the
    head config also gives must agree (ValueError naming both)."""
    pre = equi_recon_preprocessor(data_preprocessor, owner)
    cfg = copy.deepcopy(head)
    for key in FROM_PREPROCESSOR:
        value = getattr(pre, key)
        if key in cfg and cfg[key] != value:
            raise ValueError(
                f'{owner}: head.{key}={cfg[key]!r} but the data preprocessor '
                f'has {key}={value!r}; set {key} once, on '
                'model.data_preprocessor')
        cfg[key] = value
    return MODELS.build(cfg)


def patch_grid(backbone: nn.Module, images: torch.Tensor) -> Tuple[int, int]:
    """(h, w) token grid of a ViT for images (..., H, W)."""
    p = backbone.patch_embed.projection.stride
    return images.shape[-2] // p[0], images.shape[-1] // p[1]


def views_and_targets(inputs: Dict, num_intermediate: int, owner: str
                      ) -> Tuple[List[torch.Tensor], torch.Tensor]:
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


def rename_legacy_head_keys(module: nn.Module, state_dict: Dict, prefix: str,
                            *args) -> None:
    """``load_state_dict`` pre-hook: ``<prefix>decoders.*``,
    ``<prefix>recon_loss.*``, ``<prefix>topk.*`` (the layout before
    :class:`EquiReconHead`) -> ``<prefix>head.*``, in place, logged once
    per load. Backbone, neck and teacher keys are unchanged."""
    renamed: Dict[str, int] = {}
    for key in list(state_dict):
        if not key.startswith(prefix):
            continue
        part = key[len(prefix):].split('.', 1)[0]
        if part not in LEGACY_HEAD_PARTS:
            continue
        new = f'{prefix}head.{key[len(prefix):]}'
        if new in state_dict:
            raise KeyError(f'the state dict has both {key!r} (old layout) '
                           f'and {new!r}; it mixes two layouts')
        state_dict[new] = state_dict.pop(key)
        renamed[part] = renamed.get(part, 0) + 1
    if renamed:
        print_log(
            f'{type(module).__name__}: state dict in the layout before '
            'EquiReconHead; renamed ' + ', '.join(
                f'{prefix}{p}.* -> {prefix}head.{p}.* ({n} keys)'
                for p, n in renamed.items()),
            logger='current', level=logging.WARNING)


def raw_token_backbone(backbone: dict, owner: str) -> dict:
    """A copy of the ViT config ``backbone`` set to return all tokens of
    its last layer (``out_type='raw'``, ``out_indices=-1``); a config that
    sets either to another value is a ValueError naming it."""
    backbone = copy.deepcopy(backbone)
    for key, value in (('out_type', 'raw'), ('out_indices', -1)):
        if backbone.setdefault(key, value) != value:
            raise ValueError(f'{owner} needs backbone.{key}={value!r}, got '
                             f'{backbone[key]!r}')
    return backbone


def invariant_dims(embed: int, head: dict, owner: str) -> int:
    """``k_inv = embed - d_equi``: the invariant width of an ``embed``-wide
    embedding of which the head config ``head`` takes the last ``d_equi``
    features (``0 <= d_equi < embed``, else ValueError)."""
    return split_dims(embed, config_d_equi(head, owner), owner)


def split_dims(embed: int, d_equi: int, owner: str, key: str = 'head.d_equi',
               low: int = 0) -> int:
    """``k_inv = embed - d_equi`` for ``low <= d_equi < embed`` (else a
    ValueError naming the config key ``key``)."""
    if not low <= d_equi < embed:
        raise ValueError(f'{owner}: {key}={d_equi} must be in '
                         f'[{low}, {embed}) (the embedding width)')
    return embed - d_equi


def build_expander(expander: dict, embed: int, k_inv: int,
                   owner: str) -> nn.Module:
    """Build the VICReg expander config ``expander`` on the invariant part
    (``k_inv`` of the ``embed``-wide embedding): ``in_channels`` is set to
    ``k_inv`` where absent and must equal it where given (ValueError naming
    both)."""
    expander = dict(expander)
    if expander.get('in_channels') is None:
        expander['in_channels'] = k_inv
    elif expander['in_channels'] != k_inv:
        raise ValueError(
            f"{owner}: expander.in_channels={expander['in_channels']} but "
            f'the invariant part has {embed} - {embed - k_inv} = {k_inv} '
            'dims (leave it out: it is derived)')
    return MODELS.build(expander)


class TokenSplitEquiRecon:
    """Mixin of the algorithms that project every token of a ViT to one
    embedding and split it along features (SIE-style, Garrido et al., ICML
    2023; Wang et al., AAAI-26)::

        e = neck(backbone(views))           (2, B, 1+N, embed)
        e[:, :, 0, :k_inv]                  [CLS] -> the base SSL loss
        e[:, :, 1:, k_inv:]                 patches -> ``self.head`` (d_equi)

    (:class:`~mmequi.models.VICRegEquiRecon`,
    :class:`~mmequi.models.SimCLREquiRecon`; :class:`~mmequi.models.
    CrossAttnRecon` uses the embedding methods only). The host is a
    ``BaseSelfSupervisor`` with ``backbone`` (``out_type='raw'``, see
    :func:`raw_token_backbone`), ``neck``, ``head``
    (:class:`EquiReconHead`) and ``k_inv = embed - d_equi``.
    """

    def extract_feat(self, inputs: torch.Tensor) -> torch.Tensor:
        """All tokens (B, 1 + N, C) of the backbone."""
        return self.backbone(inputs)[0]

    def _embed(self, images: torch.Tensor) -> torch.Tensor:
        return self.neck(self.extract_feat(images))  # (n, 1+N, embed)

    def _embed_views(self, inputs
                     ) -> Tuple[torch.Tensor, List[torch.Tensor],
                                torch.Tensor]:
        """``(e, views, targets)`` of the data preprocessor's output: the
        two views (B, 3, H, W), the targets (K, B, 3, H, W) and the
        embedding ``e`` (2, B, 1+N, embed) of every token of both views
        (one backbone call)."""
        views, targets = views_and_targets(inputs, self.head.num_intermediate,
                                           type(self).__name__)
        return self._embed_pair(views), views, targets

    def _embed_pair(self, views: List[torch.Tensor]) -> torch.Tensor:
        """The embedding (2, B, 1+N, embed) of every token of the two
        ``views`` (B, 3, H, W) in one backbone call; another number of
        views is a ValueError."""
        if len(views) != 2:
            raise ValueError(f'{type(self).__name__} uses 2 views, got '
                             f'{len(views)} (set num_local=0)')
        return self._embed(torch.cat(views)).unflatten(
            0, (2, views[0].shape[0]))

    @torch.no_grad()
    def equi_features(self, inputs, data_samples: List
                      ) -> Tuple[torch.Tensor, Tuple[int, int]]:
        """``(e_equi, hw)``: the equivariant patch embeddings of the two
        views, (2, B, N, d_equi) in view order, and the token grid."""
        if not self.head.d_equi:
            raise RuntimeError('d_equi=0: the model has no decoders')
        views = inputs['views']
        e = self._embed(torch.cat(views)).unflatten(0, (2, views[0].shape[0]))
        return e[:, :, 1:, self.k_inv:], patch_grid(self.backbone, views[0])

    def method_losses(self, e: torch.Tensor, views: List[torch.Tensor],
                      targets: torch.Tensor) -> Dict[str, torch.Tensor]:
        """The method's terms for the embedding ``e`` (2, B, 1+N, embed) of
        the two ``views`` (B, 3, H, W) and the targets (K, B, 3, H, W):
        ``loss_recon`` of the patches' equivariant part when d_equi > 0,
        and ``loss_topk`` (strong views' invariant [CLS] -> the other
        view's detached one) with a rescue config."""
        losses = {}
        if self.head.d_equi:
            losses.update(self.head.loss(e[:, :, 1:, self.k_inv:],
                                         patch_grid(self.backbone, views[0]),
                                         targets))
        if self.head.topk is not None:
            inv = e[:, :, 0, :self.k_inv]  # (2, B, k_inv)
            losses['loss_topk'] = self.head.rescue_loss(
                inv, torch.stack(views), inv,
                lambda x: self._embed(x)[:, 0, :self.k_inv],
                self.data_preprocessor)
        return losses

    @torch.no_grad()
    def decode_equi(self, z_equi: torch.Tensor, hw) -> List[torch.Tensor]:
        """K reconstructions (B, 3, H, W) from ``z_equi`` (2, B, N, d)."""
        return self.head.decode(z_equi, hw)

    @torch.no_grad()
    def reconstruct(self, inputs, data_samples: List) -> List[torch.Tensor]:
        """For visualisation: the K reconstructions (B, 3, H, W)."""
        if not self.head.d_equi:
            return []
        return self.decode_equi(*self.equi_features(inputs, data_samples))
