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
