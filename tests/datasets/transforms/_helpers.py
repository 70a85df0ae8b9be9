"""Shared helpers for the transform tests."""
import math

import cv2
import numpy as np
import torch


def textured_bgr(height: int, width: int, seed: int = 0) -> np.ndarray:
    """A smooth random colour texture, (H, W, 3) uint8 BGR."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (max(2, height // 6), max(2, width // 6), 3),
                         dtype=np.uint8)
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)


def assert_rate(k: int, n: int, p: float, sds: float = 4.0) -> None:
    """``k`` successes out of ``n`` are consistent with probability ``p``
    (exact for p in {0, 1}, else within ``sds`` binomial sd)."""
    if p in (0.0, 1.0):
        assert k == round(n * p), (k, n, p)
        return
    sd = math.sqrt(n * p * (1 - p))
    assert abs(k - n * p) <= sds * sd, (
        f'{k}/{n} = {k / n:.4f}, expected {p} +- {sds * sd / n:.4f}')


def rgb_tensor(bgr: np.ndarray) -> torch.Tensor:
    """(H, W, 3) BGR uint8 array -> (3, H, W) RGB uint8 tensor."""
    return torch.from_numpy(np.ascontiguousarray(bgr[..., ::-1])).permute(
        2, 0, 1).contiguous()


def naive_blur(x: np.ndarray, sigma: float) -> np.ndarray:
    """Separable Gaussian, 2 * ceil(3 sigma) + 1 taps, reflect padding,
    float64, rounded: (H, W, C) -> (H, W, C)."""
    r = math.ceil(3 * sigma)
    d = np.arange(-r, r + 1, dtype=np.float64)
    g = np.exp(-d**2 / (2 * sigma**2))
    g /= g.sum()
    height, width = x.shape[:2]
    p = np.pad(x.astype(np.float64), ((r, r), (r, r), (0, 0)),
               mode='reflect')
    rows = sum(g[i] * p[i:i + height] for i in range(2 * r + 1))
    out = sum(g[i] * rows[:, i:i + width] for i in range(2 * r + 1))
    return np.rint(out)
