"""Parametrised image transformations ``g_theta``, their intermediate
targets (Wang et al., *Self-Supervised Learning Based on Transformed Image
Reconstruction for Equivariance-Coherent Feature Representation*, AAAI-26,
arXiv:2503.18753), the one θ sampler and the one pixel normaliser.

A neutral package: it imports neither :mod:`mmequi.datasets` nor
:mod:`mmequi.models` (only numpy and torch), and both may import it.

Build one from a config dict::

    t = build_param_transform(dict(type='rotation', max_angle=45.0))
    theta = t.sample(len(u), device=u.device)         # (B, 1) degrees
    v2, targets = t.intermediate(u, theta, num=2)     # (B,3,H,W), (2,B,3,H,W)
    x = PixelNormalizer(mean, std).normalize(v2)      # network input
"""
from typing import Dict, Type, Union

from .base import (ParamTransform, check_range, leak_free_window,
                   rotation_extent, se2_warp, window_is_leak_free)
from .blur import Blur
from .color import Color
from .compose import PAPER_TASKS, Compose
from .identity import Identity
from .pixels import PixelNormalizer, to_uint8, to_unit
from .rotation import Rotation
from .sampling import sample_uniform, scale_unit
from .se2 import SE2
from .translation import Translation

#: Families by ``type`` name.
PARAM_TRANSFORMS: Dict[str, Type[ParamTransform]] = {
    'rotation': Rotation,
    'color': Color,
    'blur': Blur,
    'translation': Translation,
    'se2': SE2,
    'compose': Compose,
    'identity': Identity,
}


def build_param_transform(
        cfg: Union[dict, ParamTransform]) -> ParamTransform:
    """Build a :class:`ParamTransform` from ``dict(type=name, **ranges)``,
    e.g. ``dict(type='rotation', max_angle=45.0)``; a ready
    :class:`ParamTransform` is returned unchanged.

    Raises:
        TypeError: ``cfg`` is not a dict (or has no ``type``), or the range
            arguments do not fit the family.
        KeyError: unknown ``type`` (the message lists the valid ones).
    """
    if isinstance(cfg, ParamTransform):
        return cfg
    if not isinstance(cfg, dict) or 'type' not in cfg:
        raise TypeError('cfg must be a dict with a "type" key, one of '
                        f'{sorted(PARAM_TRANSFORMS)}; got {cfg!r}')
    args = dict(cfg)
    name = args.pop('type')
    if name not in PARAM_TRANSFORMS:
        raise KeyError(f'Unknown param transform type {name!r}; valid types: '
                       f'{sorted(PARAM_TRANSFORMS)}')
    return PARAM_TRANSFORMS[name](**args)


__all__ = [
    'ParamTransform', 'Rotation', 'Color', 'Blur', 'Translation', 'SE2',
    'Compose', 'Identity', 'PAPER_TASKS',
    'PARAM_TRANSFORMS', 'build_param_transform', 'check_range', 'se2_warp',
    'leak_free_window', 'rotation_extent', 'window_is_leak_free',
    'sample_uniform', 'scale_unit', 'PixelNormalizer', 'to_unit', 'to_uint8'
]
