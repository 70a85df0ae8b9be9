"""Gaussian blur: against scipy, per-sample sigma, monotone targets."""
import math

import numpy as np
import pytest
import torch
from scipy import ndimage

import mmequi  # noqa: F401
from mmequi.param_transforms import Blur

from ._helpers import smooth_images


def _scipy_blur(img: torch.Tensor, sigma: float) -> torch.Tensor:
    """Independent reference: scipy's 2-D Gaussian filter in float64 with the
    same truncation radius ceil(3 sigma) and mirror (= torch 'reflect')
    borders, channel by channel."""
    radius = int(math.ceil(3.0 * sigma))
    out = np.stack([
        ndimage.gaussian_filter(c.double().numpy(), sigma, mode='mirror',
                                radius=radius) for c in img
    ])
    return torch.from_numpy(out).float()


def _noise(b, h, w, seed=0):
    return torch.rand(b, 3, h, w, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize('sigma', [0.1, 0.45, 0.7, 1.3, 1.9])
def test_matches_scipy_gaussian_filter(sigma):
    blur = Blur()
    img = _noise(2, 20, 27, seed=1)
    out = blur.apply(img, torch.full((2, 1), sigma))
    for i in range(2):
        ref = _scipy_blur(img[i], sigma)
        assert torch.allclose(out[i], ref, atol=1e-5, rtol=0), sigma


def test_per_sample_sigma_in_one_batch_equals_separate_calls():
    blur = Blur()
    img = _noise(5, 24, 24, seed=2)
    sigmas = torch.tensor([[0.3], [1.9], [0.0], [1.0], [0.75]])
    out = blur.apply(img, sigmas)
    assert torch.equal(out[2], img[2])
    for i in range(5):
        single = blur.apply(img[i:i + 1], sigmas[i:i + 1])
        assert torch.allclose(out[i:i + 1], single, atol=1e-6, rtol=0)
        if sigmas[i, 0] > 0:
            ref = _scipy_blur(img[i], float(sigmas[i, 0]))
            assert torch.allclose(out[i], ref, atol=1e-5, rtol=0)


def test_kernels_normalised_and_truncated():
    blur = Blur()
    taps = blur.kernels(torch.tensor([0.5, 1.0, 2.0]))
    assert taps.shape == (3, 2 * blur.radius + 1) and blur.radius == 6
    assert torch.allclose(taps.sum(1), torch.ones(3))
    offsets = torch.arange(-6, 7)
    for row, own in zip(taps, (2, 3, 6)):
        assert torch.all(row[offsets.abs() > own] == 0)
        assert torch.all(row[offsets.abs() <= own] > 0)
        assert torch.equal(row, row.flip(0))


def test_targets_monotonically_smoother():
    """sigma_k = k sigma / (K + 1) grows with k, so the variance and the
    high-frequency energy of u_k decrease strictly along k = 0..K+1."""
    blur = Blur()
    img = _noise(3, 32, 32, seed=3)
    # sigma / (K + 1) >= 0.375: the first step is a visible blur in float32
    # (for sigma ~ 0.15 the outer taps are ~1e-9 and the image is unchanged)
    theta = torch.tensor([[2.0], [1.5], [1.8]])
    num = 3
    v2, targets = blur.intermediate(img, theta, num)
    seq = torch.cat([img[None], targets, v2[None]])  # (K + 2, B, 3, H, W)

    def variance(x):
        return x.var(dim=(-2, -1)).mean(-1)

    def hf_energy(x):  # energy of the discrete Laplacian
        lap = (4 * x[..., 1:-1, 1:-1] - x[..., :-2, 1:-1] - x[..., 2:, 1:-1]
               - x[..., 1:-1, :-2] - x[..., 1:-1, 2:])
        return lap.pow(2).mean(dim=(-3, -2, -1))

    for measure in (variance, hf_energy):
        vals = torch.stack([measure(s) for s in seq])  # (K + 2, B)
        assert torch.all(vals[1:] < vals[:-1]), measure.__name__


def test_targets_defined_by_parameter_not_composition():
    """Blurs add in quadrature: two steps of sigma / sqrt(2) ~ one step of
    sigma (up to the kernel sampling/truncation, < 2e-3 here), whereas the
    target at t = 1/2 is the image blurred with sigma / 2."""
    blur = Blur((0.1, 3.0))
    img = smooth_images(2, 48, 48, seed=4, min_period=4)
    sigma = torch.tensor([[1.5], [2.5]])
    one = blur.apply(img, sigma)
    two = blur.apply(blur.apply(img, sigma / math.sqrt(2)), sigma / math.sqrt(2))
    inner = (Ellipsis, slice(8, -8), slice(8, -8))
    assert (one - two)[inner].abs().max() < 2e-3
    _, targets = blur.intermediate(img, sigma, 1)
    assert torch.allclose(targets[0], blur.apply(img, sigma / 2), atol=1e-6)
    assert (targets[0] - two)[inner].abs().max() > 2e-2


def test_identity_below_eps_and_errors():
    blur = Blur()
    img = _noise(3, 16, 16, seed=5)
    out = blur.apply(img, torch.tensor([[0.0], [1e-6], [1e-3]]))
    assert torch.equal(out[:2], img[:2])
    assert torch.allclose(out[2], img[2], atol=1e-6)  # taps exp(-5e5) = 0
    with pytest.raises(ValueError, match='radius'):
        blur.apply(_noise(1, 6, 32), torch.ones(1, 1))
    # a blur with a smaller configured maximum works on small images
    small = Blur((0.1, 1.0))
    assert small.radius == 3
    assert small.apply(_noise(1, 6, 6), torch.ones(1, 1)).shape == (1, 3, 6, 6)
