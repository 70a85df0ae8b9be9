"""Statistics of batches of uint8 views, for comparing the CPU and device
data paths in distribution."""
from typing import Dict, List, Sequence

import torch


def view_stats(views: Sequence[torch.Tensor]) -> List[Dict[str, float]]:
    """Per view (uint8 (B, 3, H, W)): the mean pixel and per-channel means
    (``mean``, ``mean_r``, ``mean_g``, ``mean_b``), the mean per-image std,
    the fraction of grey images, of solarized ones (max <= 130: 127 after
    solarizing, plus the device path's single rounding at the threshold)
    and of pixels above 0.9 (``bright``), and the mean |Laplacian|
    (``sharp``), all on [0, 1] pixels."""
    out = []
    for v in views:
        x = v.float() / 255
        lap = (4 * x[..., 1:-1, 1:-1] - x[..., :-2, 1:-1] - x[..., 2:, 1:-1]
               - x[..., 1:-1, :-2] - x[..., 1:-1, 2:]).abs()
        grey = (x.amax(1) - x.amin(1)).amax((1, 2)) < 1.5 / 255
        out.append(dict(
            mean=float(x.mean()), mean_r=float(x[:, 0].mean()),
            mean_g=float(x[:, 1].mean()), mean_b=float(x[:, 2].mean()),
            std=float(x.flatten(1).std(1).mean()),
            grey=float(grey.float().mean()),
            solarized=float((v.flatten(1).amax(1) <= 130).float().mean()),
            sharp=float(lap.mean()),
            bright=float((x > 0.9).float().mean())))
    return out
