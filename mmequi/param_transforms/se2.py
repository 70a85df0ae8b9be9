"""SE(2): rotation about the centre followed by a translation,
``theta = (phi, tx, ty)`` (degrees, pixels, pixels).

Paper setting (Wang et al., AAAI-26, arXiv:2503.18753): rotation
``phi ~ U(-45, 45)`` combined with translation ``tx, ty ~ U(-10, 10)``.
Targets use the paper's linear interpolation of the parameters,
``theta_t = t * (phi, tx, ty)``, i.e. ``T(t tx, t ty) o R(t phi)``; this is not
the group geodesic (``exp(t log g)``) when both parts are non-zero, and
``g_{theta/2} o g_{theta/2} != g_theta`` in general.
"""
from typing import Sequence, Union

import torch

from .base import ParamTransform, check_range, rotation_extent

__all__ = ['SE2']


class SE2(ParamTransform):
    """``g = T o R``: rotate about the image centre by ``phi`` degrees
    (positive = counter-clockwise on screen, see :class:`Rotation`), then
    shift by ``(tx, ty)`` pixels (positive = right / down, see
    :class:`Translation`). Both are composed into one affine matrix and
    resampled once (bilinear, ``align_corners=False``, zero padding). Rows
    with ``theta == 0`` return the input exactly.

    Args:
        max_angle: degrees, as in :class:`Rotation`. Defaults to 45.
        max_shift: pixels, as in :class:`Translation`. Defaults to 10.
    """

    name = 'se2'
    dim = 3

    def __init__(self, max_angle: Union[float, Sequence[float]] = 45.0,
                 max_shift: Union[float, Sequence[float]] = 10.0) -> None:
        self.angle_range = check_range('max_angle', max_angle, -180.0, 180.0)
        self.shift_range = check_range('max_shift', max_shift, -float('inf'),
                                       float('inf'))
        (alo, ahi), (slo, shi) = self.angle_range, self.shift_range
        super().__init__([alo, slo, slo], [ahi, shi, shi])

    def warp(self, theta: torch.Tensor):
        """``(angle, shift)`` for se2_warp; theta ``(B, 3)`` = ``(phi, tx, ty)``."""
        return theta[:, 0], theta[:, 1:]

    def max_extent(self):
        return (rotation_extent(*self.angle_range),
                max(abs(v) for v in self.shift_range))

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(max_angle={self.angle_range}, '
                f'max_shift={self.shift_range})')
