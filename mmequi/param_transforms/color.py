"""Colour jitter with continuous parameters ``theta = (b, c, s, h)``.

Paper setting (Wang et al., AAAI-26, arXiv:2503.18753): brightness, contrast
and saturation offsets in ``[-0.4, 0.4]`` and a hue shift in ``[-0.1, 0.1]``.
The factors are ``1 + b``, ``1 + c`` and ``1 + s`` and the hue shift is ``h``
(a fraction of the full hue circle), so ``theta = 0`` is the identity and the
linearly interpolated targets ``t * theta`` move every factor linearly from 1.
"""
from typing import Sequence, Union

import torch

from .base import ParamTransform, check_range

__all__ = ['Color', 'adjust_brightness', 'adjust_contrast',
           'adjust_saturation', 'adjust_hue', 'rgb_to_gray']

#: Luma weights (ITU-R 601-2, as torchvision's ``rgb_to_grayscale``).
GRAY_WEIGHTS = (0.2989, 0.587, 0.114)


def _col(x: torch.Tensor) -> torch.Tensor:
    """``(B,)`` -> ``(B, 1, 1, 1)`` for broadcasting over images."""
    return x[:, None, None, None]


def _blend(img1: torch.Tensor, img2: torch.Tensor,
           ratio: torch.Tensor) -> torch.Tensor:
    """``clamp(ratio * img1 + (1 - ratio) * img2, 0, 1)``; ratio ``(B,1,1,1)``.
    Exactly ``img1`` for ``ratio == 1`` and ``img1`` in ``[0, 1]``."""
    return (img1 * ratio + img2 * (1.0 - ratio)).clamp(0.0, 1.0)


def rgb_to_gray(img: torch.Tensor) -> torch.Tensor:
    """``(B, 3, H, W)`` -> ``(B, 1, H, W)`` luma
    ``0.2989 R + 0.587 G + 0.114 B``."""
    r, g, b = img.unbind(dim=1)
    wr, wg, wb = GRAY_WEIGHTS
    return (r * wr + g * wg + b * wb).unsqueeze(1)


def adjust_brightness(img: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    """``clamp(img * factor, 0, 1)`` (torchvision's blend with black);
    img ``(B, 3, H, W)``, factor ``(B,)``."""
    return (img * _col(factor)).clamp(0.0, 1.0)


def adjust_contrast(img: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    """Blend with the per-image mean of the luma (torchvision semantics)."""
    mean = rgb_to_gray(img).mean(dim=(1, 2, 3), keepdim=True)
    return _blend(img, mean, _col(factor))


def adjust_saturation(img: torch.Tensor,
                      factor: torch.Tensor) -> torch.Tensor:
    """Blend with the per-pixel luma (torchvision semantics)."""
    return _blend(img, rgb_to_gray(img), _col(factor))


def adjust_hue(img: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
    """Add ``shift`` (``(B,)``, fraction of the hue circle) to the HSV hue.

    RGB -> HSV with ``V = max``, ``S = (max - min) / max`` and the hexcone hue;
    back to RGB with ``C_n = V - V S clamp(min(k, 4 - k), 0, 1)``,
    ``k = (n + 6 H) mod 6`` for ``n = 5, 3, 1`` (R, G, B). Grey pixels
    (``max == min``) keep ``S = 0`` and are unchanged. The round trip is exact
    only up to float rounding (callers skip it where ``shift == 0``).
    """
    r, g, b = img.unbind(dim=1)
    maxc, _ = img.max(dim=1)
    minc, _ = img.min(dim=1)
    delta = maxc - minc
    chromatic = delta > 0
    safe_delta = torch.where(chromatic, delta, torch.ones_like(delta))
    safe_max = torch.where(maxc > 0, maxc, torch.ones_like(maxc))
    sat = delta / safe_max
    hue_r = torch.remainder((g - b) / safe_delta, 6.0)
    hue_g = (b - r) / safe_delta + 2.0
    hue_b = (r - g) / safe_delta + 4.0
    hue6 = torch.where(maxc == r, hue_r, torch.where(maxc == g, hue_g, hue_b))
    hue6 = torch.where(chromatic, hue6, torch.zeros_like(hue6))
    hue6 = torch.remainder(hue6 + shift[:, None, None] * 6.0, 6.0)
    channels = []
    for n in (5.0, 3.0, 1.0):
        k = torch.remainder(hue6 + n, 6.0)
        ramp = torch.minimum(k, 4.0 - k).clamp(0.0, 1.0)
        channels.append(maxc - maxc * sat * ramp)
    return torch.stack(channels, dim=1).clamp(0.0, 1.0)


class Color(ParamTransform):
    """Brightness, contrast, saturation and hue, always in this fixed order,
    with the semantics of torchvision's tensor kernels on float images
    (``adjust_brightness``, ``adjust_contrast``, ``adjust_saturation``,
    ``adjust_hue``), clamped to ``[0, 1]`` after every op:

    1. brightness: ``x * (1 + b)``;
    2. contrast: blend with the per-image mean luma, factor ``1 + c``;
    3. saturation: blend with the per-pixel luma, factor ``1 + s``;
    4. hue: shift the HSV hue by ``h`` turns (skipped, via ``torch.where``,
       on rows with ``h == 0`` because the HSV round trip is only exact to
       float rounding).

    Luma is ``0.2989 R + 0.587 G + 0.114 B``. ``theta = 0`` returns the input
    exactly (the blends with factor 1 are exact).

    Args:
        brightness, contrast, saturation: offsets ``x`` give
            ``U(-x, x)``, ``0 <= x <= 1`` (or a ``(low, high)`` pair within
            ``[-1, 1]``). Defaults to 0.4.
        hue: ``U(-x, x)`` with ``0 <= x <= 0.5`` (or a pair within
            ``[-0.5, 0.5]``). Defaults to 0.1.
    """

    name = 'color'
    dim = 4

    def __init__(self,
                 brightness: Union[float, Sequence[float]] = 0.4,
                 contrast: Union[float, Sequence[float]] = 0.4,
                 saturation: Union[float, Sequence[float]] = 0.4,
                 hue: Union[float, Sequence[float]] = 0.1) -> None:
        self.brightness = check_range('brightness', brightness, -1.0, 1.0)
        self.contrast = check_range('contrast', contrast, -1.0, 1.0)
        self.saturation = check_range('saturation', saturation, -1.0, 1.0)
        self.hue = check_range('hue', hue, -0.5, 0.5)
        ranges = (self.brightness, self.contrast, self.saturation, self.hue)
        super().__init__([r[0] for r in ranges], [r[1] for r in ranges])

    def _apply(self, img: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
        """img ``(B, 3, H, W)``, theta ``(B, 4)`` = ``(b, c, s, h)``."""
        b, c, s, h = theta.unbind(dim=1)
        out = adjust_brightness(img, 1.0 + b)
        out = adjust_contrast(out, 1.0 + c)
        out = adjust_saturation(out, 1.0 + s)
        return torch.where(_col(h == 0), out, adjust_hue(out, h))

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(brightness={self.brightness}, '
                f'contrast={self.contrast}, saturation={self.saturation}, '
                f'hue={self.hue})')
