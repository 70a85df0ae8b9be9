"""Translation, ``theta = (tx, ty)`` in pixels.

Paper setting (Wang et al., AAAI-26, arXiv:2503.18753): ``tx, ty ~ U(-10, 10)``
pixels. Translations compose additively, so the linearly interpolated targets
are also compositions of equal steps.
"""
from typing import Sequence, Union

import torch

from .base import ParamTransform, check_range

__all__ = ['Translation']


class Translation(ParamTransform):
    """Shift each image by ``(tx, ty)`` pixels of the image being transformed.

    Positive ``tx`` moves the content right, positive ``ty`` moves it down:
    ``out[y, x] = img[y - ty, x - tx]`` (bilinear
    :func:`~torch.nn.functional.grid_sample`, ``align_corners=False``, zeros
    where the source lies outside the image). Rows with ``(0, 0)`` return the
    input exactly.

    Args:
        max_shift: pixels; ``tx, ty ~ U(-max_shift, max_shift)`` independently,
            or a ``(low, high)`` pair used for both. Defaults to 10.
    """

    name = 'translation'
    dim = 2

    def __init__(self, max_shift: Union[float, Sequence[float]] = 10.0
                 ) -> None:
        self.shift_range = check_range('max_shift', max_shift, -float('inf'),
                                       float('inf'))
        lo, hi = self.shift_range
        super().__init__([lo, lo], [hi, hi])

    def warp(self, theta: torch.Tensor):
        """``(angle, shift)`` for se2_warp; theta ``(B, 2)`` = ``(tx, ty)``
        pixels."""
        return None, theta

    def max_extent(self):
        return 1.0, max(abs(v) for v in self.shift_range)

    def __repr__(self) -> str:
        return f'{type(self).__name__}(max_shift={self.shift_range})'
