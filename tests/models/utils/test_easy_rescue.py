"""Easy-sample rescue: selection, strong views, loss."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mmequi.models.data_preprocessors import EquiReconDataPreprocessor
from mmequi.models.utils import EasySampleRescue, StrongAugment


def test_selects_exactly_the_k_most_similar_pairs():
    g = torch.Generator().manual_seed(0)
    e1, e2 = torch.randn(10, 6, generator=g), torch.randn(10, 6, generator=g)
    e2[[2, 7, 5]] = e1[[2, 7, 5]] * torch.tensor([[1.0], [2.0], [0.5]])
    rescue = EasySampleRescue(ratio=0.3)
    idx = rescue.select(e1, e2)
    # naive: cosine per pair in numpy, sorted
    a, b = e1.numpy(), e2.numpy()
    cos = [float(a[i] @ b[i] / np.linalg.norm(a[i]) / np.linalg.norm(b[i]))
           for i in range(10)]
    expected = sorted(range(10), key=lambda i: -cos[i])[:3]
    assert sorted(idx.tolist()) == sorted(expected) == [2, 5, 7]
    assert rescue.num_selected(10) == 3 and rescue.num_selected(1) == 1
    with pytest.raises(ValueError, match='ratio'):
        EasySampleRescue(ratio=0.0)


def test_loss_is_weighted_one_minus_cosine_with_stop_gradient():
    rescue = EasySampleRescue(loss_weight=0.5)
    out = torch.randn(4, 5, requires_grad=True)
    target = torch.randn(4, 5, requires_grad=True)
    loss = rescue.loss(out, target)
    by_hand = 0.5 * (1 - F.cosine_similarity(out, target, dim=-1)).mean()
    torch.testing.assert_close(loss, by_hand)
    loss.backward()
    assert out.grad is not None and target.grad is None


def test_strong_augment_range_randomness_and_normalisation():
    aug = StrongAugment()
    x = torch.rand(6, 3, 32, 32)
    torch.manual_seed(0)
    y1 = aug(x)
    torch.manual_seed(0)
    y2 = aug(x)
    torch.manual_seed(1)
    y3 = aug(x)
    assert y1.shape == x.shape and 0 <= y1.min() and y1.max() <= 1
    torch.testing.assert_close(y1, y2)
    assert not torch.allclose(y1, y3)
    # each image has a 3 % chance that no op fires; most must change
    assert int(((y1 - x).abs().flatten(1).max(1).values > 0).sum()) >= 4
    off = StrongAugment(p_geo=0, p_color=0, p_gray=0, p_blur=0,
                        p_solarize=0)
    torch.testing.assert_close(off(x), x)  # every op off: identity

    pre = EquiReconDataPreprocessor(mean=[100.0, 110.0, 120.0],
                                    std=[50.0, 60.0, 70.0])

    rescue = EasySampleRescue(strong_aug=dict(
        p_geo=0, p_color=0, p_gray=0, p_blur=0, p_solarize=0))
    xn = pre.pixels.normalize(torch.rand(2, 3, 8, 8))  # valid pixels
    torch.testing.assert_close(rescue.augment(xn, pre), xn, atol=1e-5,
                               rtol=0)
    with pytest.raises(ValueError, match='p_blur'):
        StrongAugment(p_blur=1.5)


def test_strong_augment_draws_the_old_formula_in_the_old_order():
    """Geometry only: θ = (U(±a), U(±s)·size) from ``low + (high - low) *
    torch.rand(n, k)`` calls in the old order (angle, shift, coin, then the
    photometric draws that are switched off), applied by SE(2)."""
    a, s = 30.0, 0.1
    aug = StrongAugment(max_angle=a, max_shift=s, p_geo=1.0, p_color=0,
                        p_gray=0, p_blur=0, p_solarize=0)
    x = torch.rand(5, 3, 24, 20, generator=torch.Generator().manual_seed(2))
    torch.manual_seed(9)
    out = aug(x)
    torch.manual_seed(9)
    angle = -a + (a - -a) * torch.rand(5, 1)
    shift = (-s + (s - -s) * torch.rand(5, 2)) * torch.tensor([20, 24])
    keep = torch.rand(5) < 1.0
    theta = torch.cat([angle, shift], dim=1) * keep[:, None]
    assert torch.equal(out, aug.se2.apply(x, theta))


def test_augment_uses_the_preprocessors_pixel_normaliser():
    pre = EquiReconDataPreprocessor(mean=[100.0, 110.0, 120.0],
                                    std=[50.0, 60.0, 70.0])
    rescue = EasySampleRescue(strong_aug=dict(
        max_angle=10.0, p_geo=1.0, p_color=0, p_gray=0, p_blur=0,
        p_solarize=0))
    x01 = torch.rand(3, 3, 16, 16)
    xn = pre.pixels.normalize(x01)
    torch.manual_seed(1)
    out = rescue.augment(xn, pre)
    torch.manual_seed(1)
    mean = torch.tensor([100.0, 110.0, 120.0]).view(3, 1, 1)
    std = torch.tensor([50.0, 60.0, 70.0]).view(3, 1, 1)
    u01 = xn * (std / 255.0) + mean / 255.0  # the old formulas
    ref = (rescue.strong(u01) - mean / 255.0) / (std / 255.0)
    assert torch.equal(out, ref)
