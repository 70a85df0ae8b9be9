"""Rotation about the image centre, ``theta = (phi,)`` in degrees.

Paper setting (Wang et al., AAAI-26, arXiv:2503.18753): ``phi ~ U(-45, 45)``
degrees; with ``K = 2`` a view rotated by 30 degrees has targets rotated by 10
and 20 degrees. Rotations compose additively (``R(a) R(b) = R(a + b)``), so the
linearly interpolated targets are also the group's geodesic.
"""
from typing import Sequence, Union

import torch

from .base import ParamTransform, check_range, rotation_extent

__all__ = ['Rotation']


class Rotation(ParamTransform):
    """Rotate each image about its centre by ``phi`` degrees.

    Positive ``phi`` turns the content counter-clockwise as seen on the
    screen (``y`` axis pointing down), like
    :func:`torchvision.transforms.v2.functional.rotate`: a point to the right
    of the centre moves above it for ``phi = 90``. Bilinear
    :func:`~torch.nn.functional.grid_sample` with ``align_corners=False``
    (pixel centres at ``(i + 0.5) / W`` of the normalised extent, rotation
    centre ``((W - 1) / 2, (H - 1) / 2)`` in pixel indices) and zeros outside
    the image; rows with ``phi == 0`` return the input exactly.

    Args:
        max_angle: degrees; ``phi ~ U(-max_angle, max_angle)``, or a
            ``(low, high)`` pair, within ``[-180, 180]``. Defaults to 45.
    """

    name = 'rotation'
    dim = 1

    def __init__(self, max_angle: Union[float, Sequence[float]] = 45.0
                 ) -> None:
        self.angle_range = check_range('max_angle', max_angle, -180.0, 180.0)
        super().__init__([self.angle_range[0]], [self.angle_range[1]])

    def warp(self, theta: torch.Tensor):
        """``(angle, shift)`` for se2_warp; theta ``(B, 1)`` degrees."""
        return theta[:, 0], None

    def max_extent(self):
        return rotation_extent(*self.angle_range), 0.0

    def __repr__(self) -> str:
        return f'{type(self).__name__}(max_angle={self.angle_range})'
