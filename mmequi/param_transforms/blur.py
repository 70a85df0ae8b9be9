"""Gaussian blur, ``theta = (sigma,)`` in pixels.

Paper setting (Wang et al., AAAI-26, arXiv:2503.18753): ``sigma ~ U(0.1, 2)``
and targets ``sigma_k = k sigma / (K + 1)``. Blurs compose in quadrature
(``G_a * G_b = G_sqrt(a^2 + b^2)``), so the targets are *defined by the
parameter* (the image blurred with ``sigma_k``), not by composing equal blur
steps: ``g_{sigma/2}(g_{sigma/2}(u)) = g_{sigma/sqrt(2)}(u) != g_sigma(u)``.
"""
import math
from typing import Sequence

import torch
import torch.nn.functional as F

from .base import ParamTransform, check_range

__all__ = ['Blur']

#: sigma at or below this is the identity (bit-exact).
SIGMA_EPS = 1e-6


class Blur(ParamTransform):
    """Separable Gaussian blur with one ``sigma`` per image, in one batched
    call.

    Each image uses the normalised taps ``w_r ~ exp(-r^2 / (2 sigma^2))`` for
    ``|r| <= ceil(3 sigma)`` (``ceil`` computed in the image dtype), applied
    along ``W`` then ``H`` with reflect (``dcb|abcd|cba``, scipy's
    ``'mirror'``) borders. The batch shares a tap array of radius
    ``R = ceil(3 * sigma_max)`` from the *configured* maximum (no host sync
    to find the batch maximum); taps beyond a sample's own radius get weight
    0, so the result equals a per-sample call. A ``sigma`` above the
    configured maximum is truncated at radius ``R`` (still normalised). Rows
    with ``sigma <= 1e-6`` return the input exactly. Requires ``R < H`` and
    ``R < W`` (reflect padding).

    Args:
        sigma: ``(low, high)`` range in pixels, ``0 <= low <= high``.
            Defaults to ``(0.1, 2.0)``.
    """

    name = 'blur'
    dim = 1

    def __init__(self, sigma: Sequence[float] = (0.1, 2.0)) -> None:
        self.sigma = check_range('sigma', sigma, 0.0, float('inf'),
                                 symmetric=False)
        #: shared tap radius, from the configured maximum sigma
        self.radius = max(int(math.ceil(3.0 * self.sigma[1])), 1)
        super().__init__([self.sigma[0]], [self.sigma[1]])

    def kernels(self, sigma: torch.Tensor) -> torch.Tensor:
        """``(B,)`` sigmas -> ``(B, 2 R + 1)`` normalised 1-D taps (offsets
        ``-R..R``), zero beyond each sample's radius ``ceil(3 sigma)``."""
        offsets = torch.arange(-self.radius, self.radius + 1,
                               device=sigma.device, dtype=sigma.dtype)
        sig = sigma.clamp_min(SIGMA_EPS)[:, None]
        own_radius = torch.ceil(3.0 * sig)
        weights = torch.exp(-0.5 * (offsets / sig)**2)
        weights = weights * (offsets.abs() <= own_radius).to(weights.dtype)
        return weights / weights.sum(dim=1, keepdim=True)

    def _conv_last(self, x: torch.Tensor, taps: torch.Tensor) -> torch.Tensor:
        """Filter along the last dim; x ``(B, C, H, W)``, taps ``(B, T)``."""
        size = x.shape[-1]
        padded = F.pad(x, (self.radius, self.radius, 0, 0), mode='reflect')
        out = torch.zeros_like(x)
        for j in range(taps.shape[1]):
            out.addcmul_(padded[..., j:j + size], taps[:, j, None, None, None])
        return out

    def _apply(self, img: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
        """img ``(B, 3, H, W)``, theta ``(B, 1)`` = ``sigma`` pixels."""
        h, w = img.shape[-2:]
        if self.radius >= h or self.radius >= w:
            raise ValueError(
                f'Blur: the tap radius {self.radius} (ceil(3 * '
                f'{self.sigma[1]})) must be smaller than the image size '
                f'{h}x{w} for reflect padding')
        sigma = theta[:, 0]
        taps = self.kernels(sigma)
        out = self._conv_last(img, taps)
        out = self._conv_last(out.transpose(-1, -2), taps).transpose(-1, -2)
        out = out.clamp(0.0, 1.0)
        identity = (sigma <= SIGMA_EPS)[:, None, None, None]
        return torch.where(identity, img, out)

    def __repr__(self) -> str:
        return f'{type(self).__name__}(sigma={self.sigma})'
