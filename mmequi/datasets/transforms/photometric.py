"""Photometric ops of the iBOT/DINO multi-crop on uint8-valued arrays.

Colour jitter (brightness, contrast, saturation, hue), grayscale, Gaussian
blur and solarization with the semantics of torchvision's tensor kernels on
uint8 (``ColorJitter`` factor ranges, luma weights 0.2989/0.587/0.114,
truncation to uint8 after every op) but run as numpy/OpenCV float32 code on
(H, W, 3) RGB arrays that hold uint8 values (integers in [0, 255]): every
op ends with clip + floor, which is exactly the float -> uint8 truncation
torchvision's uint8 kernels do after each op, without converting back and
forth between ops. They agree with torchvision's outputs to within one grey
level. Used by :class:`~mmequi.datasets.transforms.iBOTMultiCrop` (see its
module docstring for the per-view order and probabilities).
"""
import math
from typing import Optional

import cv2
import numpy as np

__all__ = [
    'blur_kernel_size', 'adjust_brightness', 'adjust_contrast',
    'adjust_saturation', 'adjust_hue', 'rgb_to_grayscale', 'gaussian_blur',
    'solarize'
]


def blur_kernel_size(sigma: float) -> int:
    """Odd Gaussian kernel size covering ±3 sigma: ``2 * ceil(3 sigma) + 1``.
    """
    return 2 * int(math.ceil(3.0 * sigma)) + 1


_GRAY_WEIGHTS = np.array([[0.2989, 0.587, 0.114]], dtype=np.float32)


def _truncate(x: np.ndarray) -> np.ndarray:
    """In place: clamp to [0, 255] and floor (= torchvision's float ->
    uint8 cast)."""
    np.clip(x, 0.0, 255.0, out=x)
    return np.floor(x, out=x)


def _gray(x: np.ndarray) -> np.ndarray:
    """(H, W) float32 luma ``0.2989 R + 0.587 G + 0.114 B``, floored."""
    return np.floor(cv2.transform(x, _GRAY_WEIGHTS))


def adjust_brightness(x: np.ndarray, factor: float) -> np.ndarray:
    """``x * factor`` (torchvision ``adjust_brightness`` on uint8)."""
    return _truncate(x * np.float32(factor))


def adjust_contrast(x: np.ndarray, factor: float) -> np.ndarray:
    """Blend with the mean floored luma (torchvision ``adjust_contrast``)."""
    mean = np.float32(_gray(x).mean(dtype=np.float64))
    out = x * np.float32(factor)
    out += mean * np.float32(1.0 - factor)
    return _truncate(out)


def adjust_saturation(x: np.ndarray, factor: float) -> np.ndarray:
    """Blend with the per-pixel floored luma (torchvision
    ``adjust_saturation``)."""
    out = x * np.float32(factor)
    out += (_gray(x) * np.float32(1.0 - factor))[..., None]
    return _truncate(out)


def adjust_hue(x: np.ndarray, hue_factor: float) -> np.ndarray:
    """Rotate the hue by ``hue_factor`` turns, in [-0.5, 0.5]
    (torchvision ``adjust_hue``: [0, 1] scaling, HSV round trip, ``* 255.999``
    and truncation), with OpenCV's float32 colour conversions."""
    hsv = cv2.cvtColor(x * np.float32(1.0 / 255.0), cv2.COLOR_RGB2HSV)
    h = hsv[..., 0]  # degrees in [0, 360)
    h += np.float32((hue_factor * 360.0) % 360.0)  # now in [0, 720)
    np.subtract(h, np.float32(360.0), out=h, where=h >= 360.0)
    rgb = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)
    rgb *= np.float32(255.999)
    return _truncate(rgb)


def rgb_to_grayscale(x: np.ndarray) -> np.ndarray:
    """Floored luma replicated to 3 channels (torchvision
    ``rgb_to_grayscale(num_output_channels=3)``)."""
    g = _gray(x)
    return cv2.merge([g, g, g])


def gaussian_blur(x: np.ndarray, sigma: float,
                  kernel_size: Optional[int] = None) -> np.ndarray:
    """Separable Gaussian blur: float32 taps ``exp(-d^2 / (2 sigma^2))``
    normalised, reflect-101 borders, round half to even; i.e. torchvision's
    ``gaussian_blur(img, [k, k], [sigma, sigma])`` on uint8, computed
    separably. ``kernel_size`` defaults to :func:`blur_kernel_size`."""
    k = blur_kernel_size(sigma) if kernel_size is None else int(kernel_size)
    kernel = cv2.getGaussianKernel(k, sigma, ktype=cv2.CV_32F)
    out = cv2.sepFilter2D(x, cv2.CV_32F, kernel, kernel,
                          borderType=cv2.BORDER_REFLECT_101)
    np.rint(out, out=out)
    np.clip(out, 0.0, 255.0, out=out)
    return out


def solarize(x: np.ndarray, threshold: float) -> np.ndarray:
    """Invert (``255 - v``) every value ``>= threshold`` (PIL/torchvision
    ``solarize``)."""
    return np.where(x >= threshold, np.float32(255.0) - x, x)
