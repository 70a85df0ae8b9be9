"""RandomRotationViews (the paper's "rot" augmentation): the views are the
whole image rotated, nothing else, with angles ~ U(angle_range)."""
import math

import numpy as np
import pytest
import scipy.ndimage as ndi
import scipy.stats as stats

from mmequi.datasets.transforms import RandomRotationViews
from mmpretrain.registry import TRANSFORMS

from ._helpers import textured_bgr

S = 48


def _inside(size: int, angle: float, margin: float = 1.5) -> np.ndarray:
    """(S, S) bool: output pixels whose pre-image (rotation about
    ((S-1)/2, (S-1)/2), counter-clockwise on screen) lies ``margin`` px
    inside the image, where border conventions cannot matter."""
    c = (size - 1) / 2
    y, x = np.mgrid[:size, :size].astype(np.float64)
    a = math.radians(angle)
    # inverse map of a counter-clockwise (on screen, y down) rotation
    xs = c + (x - c) * math.cos(a) - (y - c) * math.sin(a)
    ys = c + (x - c) * math.sin(a) + (y - c) * math.cos(a)
    return ((xs >= margin) & (xs <= size - 1 - margin) & (ys >= margin)
            & (ys <= size - 1 - margin))


@pytest.mark.parametrize('angle', [-40.0, -7.5, 0.0, 23.0, 90.0, 170.0])
def test_views_are_the_image_rotated(angle):
    """Against scipy's rotation of the RGB image (the input is already
    S x S, so the resize is the identity): within one grey level where
    the pre-image is inside the image, ``fill`` far outside it."""
    bgr = textured_bgr(S, S, seed=1)
    rgb = bgr[..., ::-1].astype(np.float64)
    t = RandomRotationViews(global_size=S, angle_range=(angle, angle),
                            fill=7)
    out = t(dict(img=bgr.copy()))
    ref = ndi.rotate(rgb, angle, axes=(1, 0), reshape=False, order=1,
                     mode='constant', cval=7)
    inside = _inside(S, angle)
    assert inside.sum() > S * S // 3
    for view in out['img']:
        got = view.permute(1, 2, 0).numpy().astype(np.float64)
        assert np.abs(got - ref)[inside].max() <= 1.0
        outside = ~_inside(S, angle, margin=-1.5)
        if outside.any():
            assert (got[outside] == 7).all()
    # the opposite sense would not match (the test can fail)
    if angle not in (0.0, 170.0):
        wrong = ndi.rotate(rgb, -angle, axes=(1, 0), reshape=False,
                           order=1, mode='constant', cval=7)
        got = out['img'][0].permute(1, 2, 0).numpy().astype(np.float64)
        both = inside & _inside(S, -angle)
        assert np.abs(got - wrong)[both].max() > 10


def test_zero_angle_is_identity_and_resize_is_multicrops():
    """Angle 0: the view is the input (S x S) exactly; for another size it
    is iBOTMultiCrop's resize of the whole image (no crop, no flip)."""
    from mmequi.datasets.transforms.multi_crop import resize_box
    bgr = textured_bgr(S, S, seed=2)
    out = RandomRotationViews(global_size=S, angle_range=(0, 0))(
        dict(img=bgr.copy()))
    for view in out['img']:
        assert np.array_equal(view.permute(1, 2, 0).numpy(), bgr[..., ::-1])
    big = textured_bgr(75, 100, seed=3)
    out = RandomRotationViews(global_size=32, local_size=16, num_local=1,
                              angle_range=(0, 0))(dict(img=big.copy()))
    for view, size in zip(out['img'], (32, 32, 16)):
        ref = resize_box(big, (0, 0, 75, 100), size).flip(0)  # BGR -> RGB
        assert view.shape == (3, size, size)
        assert np.array_equal(view.numpy(), ref.numpy())


def test_keys_and_shapes():
    np.random.seed(0)
    t = TRANSFORMS.build(dict(type='RandomRotationViews', global_size=32,
                              local_size=16, num_local=3))
    out = t(dict(img=textured_bgr(40, 60)))
    assert out['view_sizes'] == (32, 32, 16, 16, 16)
    assert [tuple(v.shape) for v in out['img']] == (
        [(3, 32, 32)] * 2 + [(3, 16, 16)] * 3)
    assert out['crop_params'].dtype == np.float32
    assert np.array_equal(out['crop_params'],
                          np.tile([0, 0, 60, 40, 0], (5, 1)))
    assert out['rotation_angles'].shape == (5, )
    assert len(set(out['rotation_angles'].tolist())) == 5  # independent
    # gray input: replicated channels
    gray = textured_bgr(40, 60)[..., 0]
    v = t(dict(img=gray))['img'][0]
    assert np.array_equal(v[0].numpy(), v[1].numpy())


@pytest.mark.parametrize('angle_range', [(-45.0, 45.0), (-180.0, 180.0),
                                         (10.0, 30.0)])
def test_angle_distribution_matches_config(angle_range):
    """Angles ~ U(angle_range): Kolmogorov-Smirnov against the uniform law,
    every draw inside the range, numpy's global generator only."""
    t = RandomRotationViews(global_size=8, num_local=2,
                            angle_range=angle_range)
    img = textured_bgr(8, 8)
    np.random.seed(0)
    angles = np.concatenate([t(dict(img=img))['rotation_angles']
                             for _ in range(400)])
    lo, hi = angle_range
    assert ((angles >= lo) & (angles <= hi)).all()
    assert stats.kstest(angles, 'uniform', args=(lo, hi - lo)).pvalue > 1e-3
    # same global seed -> same angles
    np.random.seed(0)
    again = np.concatenate([t(dict(img=img))['rotation_angles']
                            for _ in range(400)])
    assert np.array_equal(angles, again)
    # and a narrow law is not accepted as this one (the test can fail)
    assert stats.kstest(angles, 'uniform',
                        args=(lo / 2, (hi - lo) / 2)).pvalue < 1e-3


@pytest.mark.parametrize('kwargs, message', [
    (dict(global_size=0), 'global_size must be an int > 0'),
    (dict(local_size=1.5), 'local_size must be an int > 0'),
    (dict(num_local=-1), 'num_local must be an int >= 0'),
    (dict(angle_range=(10, -10)), 'angle_range must satisfy min <= max'),
    (dict(angle_range=(-200, 0)), 'angle_range must satisfy min <= max'),
    (dict(angle_range=45), 'angle_range must be a (min, max) pair'),
    (dict(fill=256), 'fill must be an int in [0, 255]'),
])
def test_argument_checks(kwargs, message):
    with pytest.raises(ValueError) as err:
        RandomRotationViews(**kwargs)
    assert message in str(err.value)


def test_input_checks():
    t = RandomRotationViews(global_size=8)
    with pytest.raises(TypeError, match='uint8 numpy array'):
        t(dict(img=np.zeros((8, 8, 3), np.float32)))
    with pytest.raises(ValueError, match=r'got shape \(8, 8, 4\)'):
        t(dict(img=np.zeros((8, 8, 4), np.uint8)))
