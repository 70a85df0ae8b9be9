"""Rotation: sign convention, centre, composition, identity."""
import math

import pytest
import torch
import torchvision.transforms.v2.functional as TF

import mmequi  # noqa: F401
from mmequi.param_transforms import Rotation

from ._helpers import blob_image, centroid, disk_mask, smooth_images


@pytest.mark.parametrize('h, w', [(33, 33), (33, 49)])
def test_blob_rotates_counter_clockwise_on_screen(h, w):
    """A spot 10 px right of the centre goes 10 px *up* (y down) for +90
    degrees and 10 px down for -90 degrees; 180 puts it on the left."""
    cx, cy = (w - 1) / 2, (h - 1) / 2
    img = blob_image(h, w, cx + 10, cy)
    rot = Rotation(180)
    cases = {90.0: (cx, cy - 10), -90.0: (cx, cy + 10), 180.0: (cx - 10, cy),
             45.0: (cx + 10 / math.sqrt(2), cy - 10 / math.sqrt(2))}
    for angle, (ex, ey) in cases.items():
        out = rot.apply(img, torch.tensor([[angle]]))
        x, y = centroid(out)
        assert abs(x - ex) < 0.05 and abs(y - ey) < 0.05, (angle, x, y)


def test_matches_torchvision_rotate_on_interior():
    """torchvision's ``rotate`` (positive = counter-clockwise, bilinear,
    zero fill) is an independent implementation of the same map; inside the
    disk that never samples the padding they agree to float rounding."""
    rot = Rotation()
    for h, w in [(48, 48), (33, 49)]:
        img = smooth_images(3, h, w, seed=1)
        mask = disk_mask(h, w, min(h, w) / 2 - 2)
        for angle in (37.0, -12.5, 90.0):
            ours = rot.apply(img, torch.full((3, 1), angle))
            ref = TF.rotate(img, angle,
                            interpolation=TF.InterpolationMode.BILINEAR)
            err = (ours - ref)[..., mask].abs().max()
            assert err < 1e-5, (h, w, angle, err)


def test_composition_of_thirds():
    """rot(rot(u, phi/3), phi/3) ~ rot(u, 2 phi/3) inside the central disk.

    The image is a sum of 3 plane waves of amplitude 0.4/3 and period >= 16
    px, so every directional second derivative is <= 0.4 (2 pi / 16)^2 =
    0.0617 and one bilinear resampling errs by at most
    (1/8)(|f_xx| + |f_yy|) <= 0.0154. The composition resamples twice (the
    second resampling is a convex combination, so it does not amplify the
    first error) and the reference once, hence |diff| <= 3 * 0.0154 < 0.05.
    """
    rot = Rotation()
    img = smooth_images(4, 48, 48, seed=2)
    mask = disk_mask(48, 48, 17)  # corners of the 48 px square stay inside
    theta = torch.tensor([[30.0], [-45.0], [12.0], [44.0]])
    two_steps = rot.apply(rot.apply(img, theta / 3), theta / 3)
    direct = rot.apply(img, 2 * theta / 3)
    diff = (two_steps - direct)[..., mask].abs()
    assert diff.max() < 0.05
    assert diff.mean() < 0.005
    # and the test can fail: one step is far from two
    assert (rot.apply(img, theta / 3) - direct)[..., mask].abs().max() > 0.1
    # targets of intermediate() are the thirds
    _, targets = rot.intermediate(img, theta, 2)
    assert torch.allclose(targets[1], direct, atol=1e-6, rtol=0)


def test_identity_exact_and_full_turn():
    rot = Rotation(180)
    img = smooth_images(3, 32, 32, seed=3)
    theta = torch.tensor([[0.0], [-0.0], [1e-3]])
    out = rot.apply(img, theta)
    assert torch.equal(out[:2], img[:2])
    assert not torch.equal(out[2], img[2])
    assert (out[2] - img[2]).abs().max() < 1e-3
    # 4 x 90 degrees is the identity up to interpolation on pixel centres
    x = img
    for _ in range(4):
        x = rot.apply(x, torch.full((3, 1), 90.0))
    inner = disk_mask(32, 32, 14)
    assert (x - img)[..., inner].abs().max() < 1e-4


def test_zero_padding_outside():
    rot = Rotation()
    img = torch.ones(1, 3, 32, 32)
    out = rot.apply(img, torch.tensor([[45.0]]))
    assert out[0, :, 0, 0].abs().max() < 1e-6  # corner now samples outside
    assert torch.allclose(out[0, :, 16, 16], torch.ones(3))
