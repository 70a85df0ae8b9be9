"""Translation: direction, integer shifts, sub-pixel bilinear values."""
import torch

import mmequi  # noqa: F401
from mmequi.param_transforms import Translation

from ._helpers import blob_image, centroid, smooth_images


def test_integer_shift_equals_roll_on_interior():
    """Positive tx moves content right, ty down: out[y, x] = in[y-ty, x-tx];
    torch.roll does the same with wrap-around, which only the border
    strips see."""
    tr = Translation()
    img = torch.rand(3, 3, 32, 40, generator=torch.Generator().manual_seed(0))
    shifts = [(3, -2), (-5, 4), (0, 7)]
    theta = torch.tensor(shifts, dtype=torch.float32)
    out = tr.apply(img, theta)
    for i, (tx, ty) in enumerate(shifts):
        ref = torch.roll(img[i], shifts=(ty, tx), dims=(1, 2))
        ys = slice(max(ty, 0), 32 + min(ty, 0))
        xs = slice(max(tx, 0), 40 + min(tx, 0))
        assert torch.allclose(out[i][:, ys, xs], ref[:, ys, xs], atol=1e-5,
                              rtol=0)
        # the uncovered strips are zero padding
        if tx > 0:
            assert out[i][:, :, :tx].abs().max() < 1e-5
        if ty < 0:
            assert out[i][:, ty:, :].abs().max() < 1e-5


def test_blob_moves_right_and_down():
    tr = Translation()
    img = blob_image(33, 33, 16, 16)
    out = tr.apply(img, torch.tensor([[4.5, -2.25]]))
    x, y = centroid(out)
    assert abs(x - 20.5) < 0.05 and abs(y - 13.75) < 0.05


def test_half_pixel_is_bilinear_average():
    tr = Translation()
    img = torch.rand(1, 3, 16, 16, generator=torch.Generator().manual_seed(1))
    out = tr.apply(img, torch.tensor([[0.5, 0.0]]))
    ref = 0.5 * (img[..., 1:] + img[..., :-1])
    assert torch.allclose(out[..., 1:], ref, atol=1e-6, rtol=0)


def test_identity_and_composition():
    tr = Translation()
    img = smooth_images(2, 32, 32, seed=4)
    theta = torch.tensor([[0.0, 0.0], [6.0, -3.0]])
    out = tr.apply(img, theta)
    assert torch.equal(out[0], img[0])
    # two half steps (3, -1.5) = one step (6, -3) on the interior: x lands
    # on pixel centres; in y two bilinear half-pixel steps average three rows
    # with weights (1/4, 1/2, 1/4) instead of reading one, an error
    # <= max|f_yy| / 4 <= 0.0617 / 4 for this image (see test_rotation)
    half = tr.apply(tr.apply(img, theta / 2), theta / 2)
    assert (half - out)[1, :, 8:-8, 8:-8].abs().max() < 0.02
