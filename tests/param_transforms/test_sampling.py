"""The one θ sampler: same generator calls and same arithmetic as the
formulas it replaced (``low + (high - low) * torch.rand(...)``)."""
import numpy as np
import pytest
import torch

from mmequi.param_transforms import (SE2, Rotation, sample_uniform,
                                     scale_unit)


def test_scale_unit_numpy_and_torch():
    u = np.array([[0.0, 0.5], [0.25, 0.75]])
    low, high = np.array([-1.0, 10.0]), np.array([3.0, 20.0])
    np.testing.assert_array_equal(scale_unit(u, low, high),
                                  [[-1.0, 15.0], [0.0, 17.5]])
    out = scale_unit(torch.tensor([0.5, 0.25]), 2.0, 6.0)
    assert torch.equal(out, torch.tensor([4.0, 3.0]))


@pytest.mark.parametrize('bounds', ['python', 'tensor'])
@pytest.mark.parametrize('use_generator', [False, True])
def test_sample_uniform_is_the_old_formula_bit_for_bit(bounds,
                                                       use_generator):
    if bounds == 'python':
        low, high, shape = -0.1, 0.3, (7, 2)
    else:
        low = torch.tensor([-45.0, -10.0, -10.0])
        high = torch.tensor([45.0, 10.0, 10.0])
        shape = (7, 3)

    def gen():
        return torch.Generator().manual_seed(5) if use_generator else None

    torch.manual_seed(11)
    new = sample_uniform(shape, low, high, generator=gen())
    torch.manual_seed(11)
    old = low + (high - low) * torch.rand(*shape, generator=gen())
    assert new.dtype == torch.float32
    assert torch.equal(new, old)


def test_pinned_draws():
    """Values of the old ``EquiReconDataPreprocessor(theta_source='device')``
    draw for ``torch.manual_seed(0)``, SE(2) ±45° / ±10 px, B = 3 (recorded
    on the main branch before the move)."""
    torch.manual_seed(0)
    theta = SE2(45.0, 10.0).sample(3)
    expected = torch.tensor(
        [[-0.33690643310546875, 5.364436149597168, -8.230451583862305],
         [-33.11725616455078, -3.851543426513672, 2.6815738677978516],
         [-0.8915939331054688, 7.92889404296875, -0.8874406814575195]])
    assert torch.equal(theta, expected)
    # the same by hand: u = torch.rand(3, 3) of seed 0, θ = low + (high-low) u
    torch.manual_seed(0)
    u = torch.rand(3, 3)
    by_hand = torch.tensor([-45.0, -10.0, -10.0]) + torch.tensor(
        [90.0, 20.0, 20.0]) * u
    assert torch.equal(theta, by_hand)


def test_sample_on_generator_device_and_empty():
    g = torch.Generator().manual_seed(1)
    a = Rotation(30.0).sample(4, device='cpu', generator=g)
    g = torch.Generator().manual_seed(1)
    b = -30.0 + 60.0 * torch.rand(4, 1, generator=g)
    assert torch.equal(a, b) and a.device.type == 'cpu'
    assert Rotation().sample(0).shape == (0, 1)


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA')
def test_sample_on_cuda_uses_the_device_generator():
    torch.cuda.manual_seed(3)
    a = SE2().sample(5, device='cuda')
    torch.cuda.manual_seed(3)
    low = torch.tensor([-45.0, -10.0, -10.0], device='cuda')
    high = torch.tensor([45.0, 10.0, 10.0], device='cuda')
    b = low + (high - low) * torch.rand(5, 3, device='cuda')
    assert a.device.type == 'cuda' and torch.equal(a, b)
