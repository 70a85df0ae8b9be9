"""A composite family: several parametrised transforms applied in order,
``theta`` = the concatenation of their parameters.

Used for SIE conditioned on "all" four of the paper's synthetic tasks at once
(Table 1 row "SIE(all)" of Wang et al., AAAI-26, arXiv:2503.18753): rotation,
colour jitter, blur and translation with the Table 2 ranges, one draw of
each per image, so the conditioning ``theta`` (8 values by default) names
the whole transformation that relates the two views.

``g_theta = g^n_{theta_n} o ... o g^1_{theta_1}`` (``g^1`` first), each
component resampling the previous one's output (a rotation followed by a
translation is two bilinear resamplings, not the one of :class:`SE2`). The
interpolated parameters are the base class's linear ``t * theta``, so an
intermediate target ``g_{k theta / (K + 1)}`` applies *every* component at
``k theta_i / (K + 1)``.
"""
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np
import torch

from .base import ParamTransform

__all__ = ['Compose', 'PAPER_TASKS']

#: the four synthetic tasks of the paper's Table 1 with its Table 2 ranges,
#: in the order they are applied by default
PAPER_TASKS = (
    dict(type='rotation', max_angle=45.0),
    dict(type='color', brightness=0.4, contrast=0.4, saturation=0.4,
         hue=0.1),
    dict(type='blur', sigma=(0.1, 2.0)),
    dict(type='translation', max_shift=10.0),
)


class Compose(ParamTransform):
    """Apply ``transforms`` one after the other; ``theta`` ``(B, sum dim_i)``
    is the concatenation of the components' parameters in that order
    (:attr:`slices` gives each component's columns).

    Rows with ``theta == 0`` return the input exactly (every component
    does). :meth:`sample` draws each column uniformly in its component's
    range (one draw of ``(B, dim)``, like every family).

    Args:
        transforms: component configs (``dict(type=...)``) or built
            :class:`ParamTransform` objects, at least one; a component may
            not itself be a ``compose``. Defaults to the paper's four tasks
            (:data:`PAPER_TASKS`: rotation ±45°, colour ±0.4/±0.1, blur
            σ in [0.1, 2], translation ±10 px; theta of 1 + 4 + 1 + 2 = 8).
    """

    name = 'compose'
    dim = 0  # set per instance

    def __init__(self, transforms: Optional[Sequence[Union[
            dict, ParamTransform]]] = None) -> None:
        from . import build_param_transform  # the registry imports us
        if transforms is None:
            transforms = PAPER_TASKS
        if isinstance(transforms, (dict, str)) or not isinstance(
                transforms, Sequence) or len(transforms) == 0:
            raise TypeError('compose: transforms must be a non-empty list of '
                            'param transform configs, got '
                            f'{transforms!r}')
        parts: List[ParamTransform] = []
        for i, cfg in enumerate(transforms):
            if isinstance(cfg, dict) and cfg.get('type') == self.name or \
                    isinstance(cfg, Compose):
                raise ValueError(f'compose: transforms[{i}] is a compose; '
                                 'list its components instead')
            parts.append(build_param_transform(cfg))
        self.transforms = parts
        bounds, start = [], 0
        for t in parts:
            bounds.append((start, start + t.dim))
            start += t.dim
        #: ``(begin, end)`` columns of theta of each component
        self.slices: Tuple[Tuple[int, int], ...] = tuple(bounds)
        self.dim = start
        super().__init__(np.concatenate([t.low for t in parts]),
                         np.concatenate([t.high for t in parts]))

    def split_theta(self, theta: torch.Tensor) -> List[torch.Tensor]:
        """``(B, dim)`` -> the components' parameters ``(B, dim_i)``."""
        return [theta[:, a:b] for a, b in self.slices]

    def _apply(self, img: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
        for t, part in zip(self.transforms, self.split_theta(theta)):
            img = t._apply(img, part)
        return img

    def max_extent(self) -> Tuple[float, float]:
        """``(f, m)`` of the chain: the output offset ``a`` comes from the
        last component's input at ``(a + m_n) f_n``, that from
        ``((a + m_n) f_n + m_{n-1}) f_{n-1}``, ..., which is
        ``(a + m) f`` with ``f = prod f_i`` and
        ``m = sum_i m_i / prod_{j > i} f_j``."""
        f, m = 1.0, 0.0
        for t in reversed(self.transforms):
            fi, mi = t.max_extent()
            m += mi / f
            f *= fi
        return f, m

    def __repr__(self) -> str:
        return f'{type(self).__name__}({self.transforms!r})'
