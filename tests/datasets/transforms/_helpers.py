"""Shared helpers for the transform tests."""
import math

import cv2
import numpy as np


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
