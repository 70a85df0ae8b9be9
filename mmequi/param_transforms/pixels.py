"""The one pixel normaliser: uint8 / ``[0, 1]`` pixels <-> network inputs.

The transformations ``g_θ`` act on float RGB pixels in ``[0, 1]``
(:mod:`mmequi.param_transforms`); the networks see normalised pixels. Every
conversion between the two goes through :class:`PixelNormalizer` (the
equi-recon and probe data preprocessors, the online probe hook, the
easy-sample rescue, the reconstruction diagnostics), and between uint8 and
``[0, 1]`` through :func:`to_unit` / :func:`to_uint8` (also the batched
multi-crop).

Mean and std are given in 0..255 units, as in every OpenMMLab config. The
normalisation is applied to the values ``v = x01 * value_max``:

* ``value_max=1.0`` (equi-recon): ``(x01 - mean / 255) / (std / 255)``;
  without mean / std the output is ``x01`` itself;
* ``value_max=255.0`` (mmpretrain's ``ImgDataPreprocessor`` convention,
  used by the probes so that their views match a ``ClsDataPreprocessor``'s
  ``(u8 - mean) / std``): ``(x01 * 255 - mean) / std``; without mean / std
  the output is in 0..255, as mmpretrain's.

Both are the single expression ``(x01 * value_max - m) / s`` with
``m = mean / (255 / value_max)``, ``s = std / (255 / value_max)`` (float32;
``x * 1.0`` and ``x / 1.0`` are exact, so each convention keeps its
rounding bit for bit).
"""
from typing import Optional, Sequence, Union

import torch
import torch.nn as nn

__all__ = ['PixelNormalizer', 'to_unit', 'to_uint8', 'VALUE_MAXES']

#: Accepted ``value_max`` (see the module docstring).
VALUE_MAXES = (1.0, 255.0)


def to_unit(images: torch.Tensor, bgr_to_rgb: bool = False) -> torch.Tensor:
    """uint8 images ``(B, 3, H, W)`` -> float32 ``[0, 1]``
    (``images / 255``), the channel order reversed first when
    ``bgr_to_rgb`` (BGR <-> RGB)."""
    if bgr_to_rgb:
        images = images[:, [2, 1, 0], ...]
    return images.float() / 255.0


def to_uint8(x01: torch.Tensor) -> torch.Tensor:
    """float ``[0, 1]`` pixels (any shape) -> uint8 ``round(x01 * 255)``,
    clamped to 0..255 (round half to even)."""
    return (x01 * 255.0).round().clamp(0, 255).to(torch.uint8)


class PixelNormalizer(nn.Module):
    """``[0, 1]`` RGB pixels <-> normalised network inputs (see the module
    docstring for the formulas).

    The statistics are non-persistent buffers: they follow the owner's
    ``.to(device)`` and never enter a checkpoint.

    Args:
        mean, std: per-channel statistics in 0..255 units (e.g.
            ``[123.675, 116.28, 103.53]`` / ``[58.395, 57.12, 57.375]``);
            both None disables normalisation.
        value_max: ``1.0`` or ``255.0``, the value of a white pixel the
            statistics are applied to (see the module docstring).
        bgr_to_rgb: :meth:`to_unit` reverses the channel order (the
            preprocessors' ``to_rgb`` / ``bgr_to_rgb`` / ``rgb_to_bgr``).
    """

    def __init__(self,
                 mean: Optional[Sequence[Union[float, int]]] = None,
                 std: Optional[Sequence[Union[float, int]]] = None,
                 value_max: float = 1.0,
                 bgr_to_rgb: bool = False) -> None:
        super().__init__()
        if (mean is None) != (std is None):
            raise ValueError('PixelNormalizer: give both mean and std (0..255 '
                             f'units) or neither, got mean={mean!r}, '
                             f'std={std!r}')
        if value_max not in VALUE_MAXES:
            raise ValueError(f'PixelNormalizer: value_max={value_max!r}, '
                             f'expected one of {VALUE_MAXES}')
        self.value_max = float(value_max)
        self.bgr_to_rgb = bool(bgr_to_rgb)
        self.enabled = mean is not None
        if self.enabled:
            for name, value in (('mean', mean), ('std', std)):
                if len(value) != 3:
                    raise ValueError(f'PixelNormalizer: {name} must have 3 '
                                     f'values (RGB), got {value!r}')
            if not all(float(v) > 0 for v in std):
                raise ValueError(f'PixelNormalizer: std={std!r} must be > 0')
            per_unit = 255.0 / self.value_max
            stats = {
                name: (torch.tensor(value, dtype=torch.float32) /
                       per_unit).view(3, 1, 1)
                for name, value in (('mean', mean), ('std', std))
            }
            self.register_buffer('offset', stats['mean'], persistent=False)
            self.register_buffer('scale', stats['std'], persistent=False)

    def to_unit(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 ``(B, 3, H, W)`` -> float32 ``[0, 1]`` on the images'
        device, channels flipped if configured (:func:`to_unit`)."""
        return to_unit(images, self.bgr_to_rgb)

    def normalize(self, x01: torch.Tensor) -> torch.Tensor:
        """``[0, 1]`` pixels ``(..., 3, H, W)`` -> network inputs
        ``(x01 * value_max - m) / s`` (``x01 * value_max`` when disabled)."""
        if not self.enabled:
            return x01 * self.value_max if self.value_max != 1.0 else x01
        return (x01 * self.value_max - self.offset) / self.scale

    def denormalize(self, x: torch.Tensor) -> torch.Tensor:
        """Inverse of :meth:`normalize`: ``(x * s + m) / value_max``
        (``[0, 1]`` pixels up to float rounding; not clamped)."""
        if not self.enabled:
            return x / self.value_max if self.value_max != 1.0 else x
        return (x * self.scale + self.offset) / self.value_max

    def extra_repr(self) -> str:
        return (f'value_max={self.value_max}, enabled={self.enabled}, '
                f'bgr_to_rgb={self.bgr_to_rgb}')
