"""SampleTransformParams: draws theta per sample with numpy's global RNG."""
import numpy as np
import pytest
from mmcv.transforms import Compose

from mmpretrain.registry import TRANSFORMS

import mmequi  # noqa: F401
from mmequi.datasets.transforms.theta_sampler import SampleTransformParams
from mmequi.models.utils.param_transforms import Rotation

CASES = [
    (dict(type='rotation', max_angle=45.0), [(-45, 45)]),
    (dict(type='color'), [(-0.4, 0.4)] * 3 + [(-0.1, 0.1)]),
    (dict(type='blur', sigma=(0.1, 2.0)), [(0.1, 2.0)]),
    (dict(type='translation', max_shift=10.0), [(-10, 10)] * 2),
    (dict(type='se2', max_angle=30.0, max_shift=5.0),
     [(-30, 30), (-5, 5), (-5, 5)]),
]


def test_registered_and_repr():
    t = TRANSFORMS.build(
        dict(type='SampleTransformParams',
             transform=dict(type='rotation', max_angle=30.0)))
    assert isinstance(t, SampleTransformParams)
    assert isinstance(t.param_transform, Rotation)
    assert repr(t) == ('SampleTransformParams(transform=Rotation('
                       'max_angle=(-30.0, 30.0)))')


@pytest.mark.parametrize('cfg, ranges', CASES)
def test_ranges_over_many_draws(cfg, ranges):
    t = SampleTransformParams(transform=cfg)
    np.random.seed(0)
    n = 3000
    draws = np.stack([t({})['equi_theta'] for _ in range(n)])
    assert draws.shape == (n, len(ranges)) and draws.dtype == np.float32
    for j, (lo, hi) in enumerate(ranges):
        col = draws[:, j]
        assert lo <= col.min() and col.max() <= hi
        assert col.min() < lo + 0.01 * (hi - lo)
        assert col.max() > hi - 0.01 * (hi - lo)
        # uniform: 10 bins of expected 300 (binomial sd ~16.4), and the mean
        counts, _ = np.histogram(col, bins=10, range=(lo, hi))
        assert np.all(np.abs(counts - 300) < 5 * 16.4), counts
        sd_mean = (hi - lo) / np.sqrt(12 * n)
        assert abs(col.mean() - (lo + hi) / 2) < 5 * sd_mean


def test_global_generator_and_results_untouched():
    t = SampleTransformParams(transform=dict(type='se2'))
    img = np.zeros((4, 4, 3), np.uint8)
    np.random.seed(7)
    first = [t(dict(img=img))['equi_theta'] for _ in range(3)]
    np.random.seed(7)
    again = [t(dict(img=img))['equi_theta'] for _ in range(3)]
    for a, b in zip(first, again):
        assert np.array_equal(a, b) and a.shape == (3, )
    assert not np.array_equal(first[0], first[1])
    # exactly numpy's global uniform draws, in order
    np.random.seed(7)
    ref = np.random.uniform([-45, -10, -10], [45, 10, 10], size=(1, 3))
    assert np.allclose(first[0], ref[0].astype(np.float32))
    out = t(dict(img=img, crop_params=1))
    assert out['img'] is img and out['crop_params'] == 1


def test_in_compose_then_pack():
    pipeline = Compose([
        TRANSFORMS.build(cfg) for cfg in [
            dict(type='SampleTransformParams', transform=dict(type='color')),
            dict(type='PackInputs', algorithm_keys=['equi_theta'])
        ]
    ])
    np.random.seed(1)
    packed = pipeline(dict(img=np.zeros((8, 8, 3), np.uint8)))
    theta = packed['data_samples'].equi_theta
    np.random.seed(1)
    assert np.array_equal(theta, SampleTransformParams(
        transform=dict(type='color'))({})['equi_theta'])


def test_errors():
    with pytest.raises(KeyError, match='rotation'):
        SampleTransformParams(transform=dict(type='zoom'))
    with pytest.raises(ValueError):
        SampleTransformParams(transform=dict(type='rotation', max_angle=-5))
