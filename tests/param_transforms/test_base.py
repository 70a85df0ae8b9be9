"""Common behaviour of every parametrised transform: factory, ranges,
sampling, scaling, endpoints of the intermediate targets, batching."""
import numpy as np
import pytest
import torch

import mmequi  # noqa: F401
from mmequi.param_transforms import (PARAM_TRANSFORMS, SE2, Blur, Color,
                                     Compose, Identity, ParamTransform,
                                     Rotation, Translation,
                                     build_param_transform)

from ._helpers import smooth_images

# every family that transforms (identity: test_identity.py)
FAMILIES = sorted(set(PARAM_TRANSFORMS) - {'identity'})
DIMS = {'rotation': 1, 'color': 4, 'blur': 1, 'translation': 2, 'se2': 3,
        'compose': 8}
# configured ranges (low, high) per parameter for the default configs
DEFAULT_RANGES = {
    'rotation': [(-45, 45)],
    'color': [(-0.4, 0.4)] * 3 + [(-0.1, 0.1)],
    'blur': [(0.1, 2.0)],
    'translation': [(-10, 10)] * 2,
    'se2': [(-45, 45), (-10, 10), (-10, 10)],
    # rotation, colour, blur, translation (compose's default, in order)
    'compose': [(-45, 45)] + [(-0.4, 0.4)] * 3 + [(-0.1, 0.1), (0.1, 2.0)]
    + [(-10, 10)] * 2,
}


def _theta(name: str, n: int, seed: int = 0) -> torch.Tensor:
    t = build_param_transform(dict(type=name))
    return t.sample(n, generator=torch.Generator().manual_seed(seed))


def test_registry_and_factory():
    assert PARAM_TRANSFORMS == {
        'rotation': Rotation, 'color': Color, 'blur': Blur,
        'translation': Translation, 'se2': SE2, 'compose': Compose,
        'identity': Identity
    }
    for name in FAMILIES:
        t = build_param_transform(dict(type=name))
        assert isinstance(t, ParamTransform)
        assert t.name == name and t.dim == DIMS[name]
        assert repr(t).startswith(type(t).__name__)
    t = build_param_transform(dict(type='rotation', max_angle=30.0))
    assert t.angle_range == (-30.0, 30.0)
    assert build_param_transform(t) is t
    cfg = dict(type='se2', max_angle=10, max_shift=2)
    build_param_transform(cfg)
    assert cfg == dict(type='se2', max_angle=10, max_shift=2)  # not mutated


def test_factory_errors():
    with pytest.raises(KeyError) as err:
        build_param_transform(dict(type='shear'))
    for name in FAMILIES:
        assert name in str(err.value)
    with pytest.raises(TypeError, match='type'):
        build_param_transform(dict(max_angle=3))
    with pytest.raises(TypeError):
        build_param_transform('rotation')
    with pytest.raises(TypeError):
        build_param_transform(dict(type='rotation', max_shift=3))


@pytest.mark.parametrize('cfg, exc', [
    (dict(type='rotation', max_angle=-1.0), ValueError),
    (dict(type='rotation', max_angle=181.0), ValueError),
    (dict(type='rotation', max_angle=float('nan')), ValueError),
    (dict(type='rotation', max_angle=(10.0, -10.0)), ValueError),
    (dict(type='rotation', max_angle='45'), TypeError),
    (dict(type='rotation', max_angle=True), TypeError),
    (dict(type='rotation', max_angle=(1, 2, 3)), TypeError),
    (dict(type='translation', max_shift=-2.0), ValueError),
    (dict(type='translation', max_shift=float('inf')), ValueError),
    (dict(type='se2', max_angle=200.0), ValueError),
    (dict(type='se2', max_shift=(3.0, 1.0)), ValueError),
    (dict(type='color', brightness=1.5), ValueError),
    (dict(type='color', contrast=-0.1), ValueError),
    (dict(type='color', saturation=(-1.5, 0.0)), ValueError),
    (dict(type='color', hue=0.6), ValueError),
    (dict(type='blur', sigma=(2.0, 0.1)), ValueError),
    (dict(type='blur', sigma=(-0.1, 1.0)), ValueError),
    (dict(type='blur', sigma=1.0), TypeError),
    (dict(type='blur', sigma=(0.1, float('inf'))), ValueError),
])
def test_bad_ranges(cfg, exc):
    with pytest.raises(exc):
        build_param_transform(cfg)


def test_valid_range_forms():
    assert Rotation((-10, 30)).angle_range == (-10.0, 30.0)
    assert Rotation(0).angle_range == (0.0, 0.0)
    assert Translation(np.float32(4)).shift_range == (-4.0, 4.0)
    c = Color(brightness=(0.0, 0.2), hue=0.5)
    assert c.brightness == (0.0, 0.2) and c.hue == (-0.5, 0.5)
    assert Blur((0.0, 0.0)).sigma == (0.0, 0.0)


@pytest.mark.parametrize('name', FAMILIES)
def test_sample_shape_dtype_range(name):
    t = build_param_transform(dict(type=name))
    for gen in (torch.Generator().manual_seed(0), None):
        draws = t.sample(4000, generator=gen)
        assert draws.shape == (4000, DIMS[name])
        assert draws.dtype == torch.float32
        draws = draws.numpy()
        for j, (lo, hi) in enumerate(DEFAULT_RANGES[name]):
            col = draws[:, j]
            assert lo <= col.min() and col.max() <= hi
            # spans the range (4000 uniform draws: gaps of ~1/4000)
            assert col.min() < lo + 0.01 * (hi - lo)
            assert col.max() > hi - 0.01 * (hi - lo)
            # roughly uniform: 10 bins of expected 400, sd 19
            counts, _ = np.histogram(col, bins=10, range=(lo, hi))
            assert np.all(np.abs(counts - 400) < 5 * 19), counts
    assert t.sample(0).shape == (0, DIMS[name])
    with pytest.raises(ValueError):
        t.sample(-1)
    with pytest.raises(ValueError):
        t.sample(2.0)


def test_sample_uses_torch_global_generator_and_old_formula():
    """Global generator by default; the values are the old
    ``low + (high - low) * torch.rand(n, dim)`` in float32."""
    t = Color()
    torch.manual_seed(123)
    a = t.sample(5)
    torch.manual_seed(123)
    b = t.sample(5)
    torch.manual_seed(124)
    c = t.sample(5)
    assert torch.equal(a, b) and not torch.equal(a, c)
    torch.manual_seed(123)
    low = torch.tensor(t.low, dtype=torch.float32)
    high = torch.tensor(t.high, dtype=torch.float32)
    ref = low + (high - low) * torch.rand(5, 4)
    assert torch.equal(a, ref)


def test_from_unit_maps_hashed_uniforms():
    t = Translation((-2.0, 6.0))
    u = np.array([[0.0, 0.5], [0.25, 0.999]])
    np.testing.assert_array_equal(
        t.from_unit(u), np.array([[-2.0, 2.0], [0.0, 5.992]]))
    assert t.from_unit(u).dtype == np.float64


@pytest.mark.parametrize('name', FAMILIES)
def test_scale_is_linear(name):
    t = build_param_transform(dict(type=name))
    theta = _theta(name, 5)
    for f in (0.0, 1 / 3, 0.5, 1.0):
        assert torch.equal(t.scale(theta, f), theta * f)
    assert torch.equal(t.scale(theta, 1.0), theta)
    assert torch.count_nonzero(t.scale(theta, 0.0)) == 0
    per_row = torch.tensor([0.0, 0.25, 0.5, 0.75, 1.0])
    assert torch.allclose(t.scale(theta, per_row), theta * per_row[:, None])
    assert torch.equal(t.scale(theta, torch.tensor(0.5)), theta * 0.5)
    with pytest.raises(ValueError):
        t.scale(theta, 1.5)
    with pytest.raises(ValueError):
        t.scale(theta, torch.ones(3))


@pytest.mark.parametrize('name', FAMILIES)
def test_intermediate_endpoints_and_targets(name):
    t = build_param_transform(dict(type=name))
    img = smooth_images(3, 32, 32, seed=1)
    theta = _theta(name, 3, seed=2)
    num = 2
    v2, targets = t.intermediate(img, theta, num)
    assert v2.shape == img.shape and v2.dtype == torch.float32
    assert targets.shape == (num, 3, 3, 32, 32)
    # t = 0: the input itself, bit for bit
    assert torch.equal(t.apply(img, t.scale(theta, 0.0)), img)
    # k = K + 1: v2 itself, bit for bit
    assert torch.equal(t.apply(img, t.scale(theta, (num + 1) / (num + 1))),
                       v2)
    assert torch.equal(t.apply(img, theta), v2)
    for k in range(1, num + 1):
        ref = t.apply(img, t.scale(theta, k / (num + 1)))
        assert torch.allclose(targets[k - 1], ref, atol=1e-6, rtol=0)
    # the transformation does something, and differently per k
    assert (v2 - img).abs().max() > 1e-2
    assert (targets[0] - targets[1]).abs().max() > 1e-3
    # outputs stay in [0, 1]
    assert v2.min() >= 0 and v2.max() <= 1
    assert targets.min() >= 0 and targets.max() <= 1


@pytest.mark.parametrize('name', FAMILIES)
def test_intermediate_k_values(name):
    """K = 3 uses fractions 1/4, 2/4, 3/4 (the paper's k theta / (K + 1))."""
    t = build_param_transform(dict(type=name))
    img = smooth_images(2, 24, 24, seed=5)
    theta = _theta(name, 2, seed=6)
    _, targets = t.intermediate(img, theta, 3)
    assert targets.shape[0] == 3
    mid = t.apply(img, theta * 0.5)
    assert torch.allclose(targets[1], mid, atol=1e-6, rtol=0)
    # K = 0: v2 only, no targets
    v2, none = t.intermediate(img, theta, 0)
    assert torch.equal(v2, t.apply(img, theta))
    assert none.shape == (0, *img.shape)
    with pytest.raises(ValueError, match='>= 0'):
        t.intermediate(img, theta, -1)


@pytest.mark.parametrize('name', FAMILIES)
def test_batched_mixed_theta_equals_per_sample(name):
    t = build_param_transform(dict(type=name))
    img = smooth_images(5, 32, 32, seed=3)
    theta = _theta(name, 5, seed=4)
    theta[2] = 0  # an identity row among the others
    out = t.apply(img, theta)
    assert torch.equal(out[2], img[2])
    for i in range(5):
        single = t.apply(img[i:i + 1], theta[i:i + 1])
        assert torch.allclose(out[i:i + 1], single, atol=1e-6, rtol=0)
    # empty batch
    empty = t.apply(img[:0], theta[:0])
    assert empty.shape == (0, 3, 32, 32)


@pytest.mark.parametrize('name', FAMILIES)
def test_apply_input_checks(name):
    t = build_param_transform(dict(type=name))
    img = smooth_images(2, 24, 24)
    with pytest.raises(ValueError, match='theta'):
        t.apply(img, torch.zeros(2, DIMS[name] + 1))
    with pytest.raises(ValueError, match='theta'):
        t.apply(img, torch.zeros(3, DIMS[name]))
    with pytest.raises(ValueError):
        t.apply(img[:, :1], torch.zeros(2, DIMS[name]))
    with pytest.raises(TypeError):
        t.apply((img * 255).to(torch.uint8), torch.zeros(2, DIMS[name]))
    # numpy theta and float64 theta are accepted (cast to the image's dtype)
    theta = _theta(name, 2).numpy()
    out = t.apply(img, theta.astype(np.float64))
    assert out.dtype == torch.float32
    assert torch.equal(out, t.apply(img, torch.from_numpy(theta)))


@pytest.mark.parametrize('name', FAMILIES)
def test_no_grad_not_required(name):
    t = build_param_transform(dict(type=name))
    img = smooth_images(2, 24, 24).requires_grad_(True)
    theta = _theta(name, 2)
    out = t.apply(img, theta)
    with torch.no_grad():
        out2 = t.apply(img, theta)
    assert torch.equal(out.detach(), out2)


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA')
@pytest.mark.parametrize('name', FAMILIES)
def test_cuda_matches_cpu(name):
    t = build_param_transform(dict(type=name))
    img = smooth_images(4, 32, 32, seed=7)
    theta = _theta(name, 4, seed=8)
    theta[1] = 0
    v2, targets = t.intermediate(img, theta, 2)
    v2_cuda, targets_cuda = t.intermediate(img.cuda(), theta.cuda(), 2)
    assert v2_cuda.is_cuda and targets_cuda.is_cuda
    assert torch.equal(v2_cuda[1].cpu(), img[1])
    assert torch.allclose(v2_cuda.cpu(), v2, atol=1e-4, rtol=0)
    assert torch.allclose(targets_cuda.cpu(), targets, atol=1e-4, rtol=0)
