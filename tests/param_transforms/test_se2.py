"""SE(2) = translate(rotate(img)), in one resampling."""
import pytest
import torch

import mmequi  # noqa: F401
from mmequi.param_transforms import SE2, Rotation, Translation

from ._helpers import blob_image, centroid, disk_mask, smooth_images


def test_equals_translate_after_rotate():
    """With integer shifts the second resampling only moves pixel centres
    onto pixel centres, so T(R(u)) has one interpolation like SE2(u); they
    agree to float rounding where neither reads the zero padding."""
    se2, rot, tr = SE2(), Rotation(), Translation()
    img = smooth_images(3, 48, 48, seed=1)
    theta = torch.tensor([[30.0, 4.0, -3.0], [-20.0, -6.0, 2.0],
                          [45.0, 0.0, 5.0]])
    out = se2.apply(img, theta)
    ref = tr.apply(rot.apply(img, theta[:, :1]), theta[:, 1:])
    mask = disk_mask(48, 48, 14)
    assert (out - ref)[..., mask].abs().max() < 1e-4
    # the order matters: R(T(u)) is different
    other = rot.apply(tr.apply(img, theta[:, 1:]), theta[:, :1])
    assert (out - other)[..., mask].abs().max() > 0.05


def test_blob_hand_computation():
    """Spot 8 px right of the centre, +90 degrees -> 8 px above the centre,
    then shifted by (+3, +2)."""
    se2 = SE2()
    img = blob_image(33, 33, 24, 16)
    out = se2.apply(img, torch.tensor([[90.0, 3.0, 2.0]]))
    x, y = centroid(out)
    assert abs(x - 19.0) < 0.05 and abs(y - 10.0) < 0.05


@pytest.mark.parametrize('which', ['rotation', 'translation'])
def test_reduces_to_parts(which):
    se2 = SE2()
    img = smooth_images(2, 32, 32, seed=2)
    if which == 'rotation':
        part, theta = Rotation(), torch.tensor([[17.0], [-33.0]])
        full = torch.cat([theta, torch.zeros(2, 2)], dim=1)
    else:
        part, theta = Translation(), torch.tensor([[1.5, -2.0], [3.0, 0.25]])
        full = torch.cat([torch.zeros(2, 1), theta], dim=1)
    assert torch.allclose(se2.apply(img, full), part.apply(img, theta),
                          atol=1e-6, rtol=0)


def test_identity_exact():
    se2 = SE2()
    img = smooth_images(2, 32, 32, seed=3)
    out = se2.apply(img, torch.tensor([[0.0, 0.0, 0.0], [0.0, 1.0, 0.0]]))
    assert torch.equal(out[0], img[0])
    assert not torch.equal(out[1], img[1])
