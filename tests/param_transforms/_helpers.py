"""Test images for the parametrised transforms."""
import math

import numpy as np
import torch


def smooth_images(b: int, h: int, w: int, seed: int = 0,
                  min_period: float = 16.0) -> torch.Tensor:
    """``(b, 3, h, w)`` float32 in ``[0.1, 0.9]``: per channel a sum of three
    plane waves with periods >= ``min_period`` px and random directions and
    phases (so the bilinear interpolation error is small and known)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    out = np.zeros((b, 3, h, w))
    for i in range(b):
        for c in range(3):
            for _ in range(3):
                period = rng.uniform(min_period, 2 * min_period)
                ang = rng.uniform(0, 2 * math.pi)
                phase = rng.uniform(0, 2 * math.pi)
                k = 2 * math.pi / period
                out[i, c] += np.sin(k * (math.cos(ang) * x + math.sin(ang) * y)
                                    + phase)
    out = 0.5 + out * (0.4 / 3.0)
    return torch.from_numpy(out).float()


def blob_image(h: int, w: int, cx: float, cy: float,
               sigma: float = 1.5) -> torch.Tensor:
    """``(1, 3, h, w)``: a Gaussian spot centred on pixel ``(cx, cy)``."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    spot = np.exp(-((x - cx)**2 + (y - cy)**2) / (2 * sigma**2))
    return torch.from_numpy(np.broadcast_to(spot, (1, 3, h, w)).copy()).float()


def centroid(img: torch.Tensor):
    """Intensity-weighted ``(x, y)`` of channel 0 of a ``(1, 3, H, W)``
    image."""
    a = img[0, 0].double()
    h, w = a.shape
    y, x = torch.meshgrid(torch.arange(h, dtype=torch.float64),
                          torch.arange(w, dtype=torch.float64), indexing='ij')
    s = a.sum()
    return float((a * x).sum() / s), float((a * y).sum() / s)


def disk_mask(h: int, w: int, radius: float) -> torch.Tensor:
    """``(h, w)`` bool, pixels within ``radius`` of the image centre."""
    y, x = torch.meshgrid(torch.arange(h, dtype=torch.float64),
                          torch.arange(w, dtype=torch.float64), indexing='ij')
    return (x - (w - 1) / 2)**2 + (y - (h - 1) / 2)**2 <= radius**2
