"""The composite family: the components applied one by one, theta the
concatenation, its ranges, intermediates and leak-free extent."""
import math

import numpy as np
import pytest
import torch

import mmequi  # noqa: F401
from mmequi.param_transforms import (PAPER_TASKS, Blur, Color, Compose,
                                     Rotation, Translation,
                                     build_param_transform, leak_free_window)

from ._helpers import smooth_images

PARTS = [Rotation(), Color(), Blur(), Translation()]


def _theta(n: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.cat([t.sample(n, generator=g) for t in PARTS], dim=1)


def _one_by_one(img: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    """The reference: each component's public apply on its own columns."""
    cols = [1, 4, 1, 2]
    start = 0
    for t, c in zip(PARTS, cols):
        img = t.apply(img, theta[:, start:start + c])
        start += c
    return img


def test_default_is_the_four_paper_tasks():
    t = build_param_transform(dict(type='compose'))
    assert isinstance(t, Compose) and t.dim == 8
    assert [p.name for p in t.transforms] == [
        'rotation', 'color', 'blur', 'translation']
    assert t.slices == ((0, 1), (1, 5), (5, 6), (6, 8))
    np.testing.assert_array_equal(
        t.low, [-45, -0.4, -0.4, -0.4, -0.1, 0.1, -10, -10])
    np.testing.assert_array_equal(
        t.high, [45, 0.4, 0.4, 0.4, 0.1, 2.0, 10, 10])
    assert [d['type'] for d in PAPER_TASKS] == [p.name for p in t.transforms]


def test_apply_equals_components_one_by_one():
    t = Compose()
    img = smooth_images(4, 32, 32, seed=0)
    theta = _theta(4, seed=1)
    theta[2] = 0  # an identity row
    theta[3, 1:] = 0  # rotation only
    out = t.apply(img, theta)
    assert torch.equal(out, _one_by_one(img, theta))
    assert torch.equal(out[2], img[2])
    assert torch.equal(out[3:], Rotation().apply(img[3:], theta[3:, :1]))
    assert (out[0] - img[0]).abs().max() > 1e-2


def test_order_matters_and_is_the_list_order():
    img = smooth_images(2, 32, 32, seed=2)
    theta = torch.tensor([[30.0, 5.0, -3.0], [-20.0, -4.0, 6.0]])
    rt = Compose([dict(type='rotation'), dict(type='translation')])
    tr = Compose([dict(type='translation'), dict(type='rotation')])
    ref_rt = Translation().apply(Rotation().apply(img, theta[:, :1]),
                                 theta[:, 1:])
    assert torch.equal(rt.apply(img, theta), ref_rt)
    swapped = torch.cat([theta[:, 1:], theta[:, :1]], dim=1)
    assert not torch.allclose(tr.apply(img, swapped), ref_rt, atol=1e-3)


def test_intermediates_scale_every_component():
    t = Compose()
    img = smooth_images(3, 32, 32, seed=3)
    theta = _theta(3, seed=4)
    v2, targets = t.intermediate(img, theta, 2)
    assert torch.allclose(v2, _one_by_one(img, theta), atol=1e-6, rtol=0)
    for k in (1, 2):
        ref = _one_by_one(img, theta * (k / 3))
        assert torch.allclose(targets[k - 1], ref, atol=1e-6, rtol=0)


def test_sample_ranges_per_column():
    t = Compose([dict(type='rotation', max_angle=10.0),
                 dict(type='blur', sigma=(0.5, 1.0))])
    draws = t.sample(2000, generator=torch.Generator().manual_seed(0))
    assert draws.shape == (2000, 2)
    for j, (lo, hi) in enumerate([(-10, 10), (0.5, 1.0)]):
        assert draws[:, j].min() >= lo and draws[:, j].max() <= hi
        assert draws[:, j].min() < lo + 0.02 * (hi - lo)
        assert draws[:, j].max() > hi - 0.02 * (hi - lo)


def test_max_extent_of_the_chain():
    # rotation then translation: a output offset a comes from (a + m) f
    t = Compose([dict(type='rotation', max_angle=45.0),
                 dict(type='translation', max_shift=4.0)])
    f, m = t.max_extent()
    assert f == pytest.approx(math.sqrt(2)) and m == pytest.approx(4.0)
    # translation then rotation: R^-1 X then - t: (a f + m) = (a + m/f) f
    t = Compose([dict(type='translation', max_shift=4.0),
                 dict(type='rotation', max_angle=45.0)])
    f, m = t.max_extent()
    assert f == pytest.approx(math.sqrt(2))
    assert m == pytest.approx(4.0 / math.sqrt(2))
    assert leak_free_window(64, 64, [Compose().max_extent()]) >= 1


def test_errors():
    with pytest.raises(TypeError, match='non-empty list'):
        Compose([])
    with pytest.raises(TypeError, match='non-empty list'):
        Compose(dict(type='rotation'))
    with pytest.raises(ValueError, match=r'transforms\[1\] is a compose'):
        Compose([dict(type='rotation'), dict(type='compose')])
    with pytest.raises(KeyError, match='shear'):
        Compose([dict(type='shear')])
    with pytest.raises(ValueError, match=r'\(B, dim\) = \(2, 8\)'):
        Compose().apply(smooth_images(2, 32, 32), torch.zeros(2, 3))
