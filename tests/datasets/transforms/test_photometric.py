"""Photometric ops against torchvision's uint8 kernels and against direct
numpy formulas (luma, solarize, a naive separable Gaussian)."""
import numpy as np
import pytest
import torch
import torchvision.transforms.v2.functional as TF

from mmequi.datasets.transforms.photometric import (adjust_brightness,
                                                    adjust_contrast,
                                                    adjust_hue,
                                                    adjust_saturation,
                                                    blur_kernel_size,
                                                    gaussian_blur,
                                                    rgb_to_grayscale,
                                                    solarize)

from ._helpers import naive_blur, rgb_tensor, textured_bgr


def _as_f32(t: torch.Tensor) -> np.ndarray:
    return t.permute(1, 2, 0).numpy().astype(np.float32)


def _close(ours: np.ndarray, ref: torch.Tensor, max_frac: float = 0.01):
    ref = ref.permute(1, 2, 0).numpy().astype(np.float32)
    diff = np.abs(ours - ref)
    assert diff.max() <= 1, diff.max()
    assert (diff > 0).mean() <= max_frac


@pytest.mark.parametrize('factor', [0.6, 0.83, 1.0, 1.17, 1.4])
def test_ops_match_torchvision(factor):
    img = rgb_tensor(textured_bgr(40, 52, seed=7))
    x = _as_f32(img)
    np.testing.assert_array_equal(adjust_brightness(x, factor),
                                  _as_f32(TF.adjust_brightness(img, factor)))
    _close(adjust_contrast(x, factor), TF.adjust_contrast(img, factor))
    _close(adjust_saturation(x, factor),
           TF.adjust_saturation(img, factor))
    hue = (factor - 1.0) / 0.8  # [-0.5, 0.5]
    _close(adjust_hue(x, hue), TF.adjust_hue(img, hue))
    _close(rgb_to_grayscale(x), TF.rgb_to_grayscale(img, 3))
    sigma = 0.1 + (factor - 0.6) * 2.4  # 0.1 .. 2.02
    k = blur_kernel_size(sigma)
    _close(gaussian_blur(x, sigma), TF.gaussian_blur(img, [k, k],
                                                        [sigma, sigma]))
    thr = int(64 + factor * 60)
    np.testing.assert_array_equal(solarize(x, thr),
                                  _as_f32(TF.solarize(img, thr)))
    # every op keeps uint8 values
    for out in (adjust_contrast(x, factor), adjust_hue(x, hue),
                gaussian_blur(x, sigma)):
        assert out.dtype == np.float32
        assert np.array_equal(out, np.clip(np.floor(out), 0, 255))


def test_ops_match_direct_formulas():
    """Independent numpy versions: luma weights, solarize threshold, a
    naive separable Gaussian with reflect padding, and the kernel size
    rule 2 * ceil(3 sigma) + 1."""
    x = _as_f32(rgb_tensor(textured_bgr(32, 36, seed=5)))
    gray = np.floor(x[..., 0] * 0.2989 + x[..., 1] * 0.587 +
                    x[..., 2] * 0.114)
    out = rgb_to_grayscale(x)
    assert np.abs(out - gray[..., None]).max() <= 1
    assert (out[..., 0] == out[..., 1]).all()
    assert (out[..., 0] == out[..., 2]).all()
    np.testing.assert_array_equal(solarize(x, 128),
                                  np.where(x >= 128, 255 - x, x))
    assert [blur_kernel_size(s) for s in (0.1, 0.34, 1.0, 1.5, 2.0)] == \
        [3, 5, 7, 11, 13]
    for sigma in (0.3, 0.9, 2.0):
        diff = np.abs(gaussian_blur(x, sigma) - naive_blur(x, sigma))
        assert diff.max() <= 1 and (diff > 0).mean() < 0.01
    # brightness: x * f truncated
    np.testing.assert_array_equal(adjust_brightness(x, 1.3),
                                  np.clip(np.floor(x * np.float32(1.3)), 0,
                                          255))
