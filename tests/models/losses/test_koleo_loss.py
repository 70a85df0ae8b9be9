"""KoLeo loss (Sablayrolles et al., ICLR 2019; DINOv2's regulariser) against
a naive double loop and a hand-computed 3-point case."""
import math

import mmequi  # noqa: F401  (registries)
import pytest
import torch
from mmpretrain.registry import MODELS

from mmequi.models.losses import koleo_loss


def _naive(x, eps=1e-8):
    """−mean_i log(min_{j≠i} ||x̂_i − x̂_j|| + eps) with Python loops."""
    rows = [[float(v) for v in r] for r in x.double()]
    unit = [[v / math.sqrt(sum(w * w for w in r)) for v in r] for r in rows]
    total = 0.0
    for i, a in enumerate(unit):
        nearest = min(math.sqrt(sum((p - q) ** 2 for p, q in zip(a, b)))
                      for j, b in enumerate(unit) if j != i)
        total += math.log(nearest + eps)
    return -total / len(unit)


def test_hand_computed_three_points():
    # unit vectors (1,0), (0,1), (0.6,0.8) (the last given at length 2):
    # nearest distances sqrt(0.8) (1->3), sqrt(0.4) (2->3, 3->2)
    x = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.2, 1.6]])
    expected = -(0.5 * math.log(0.8) + math.log(0.4)) / 3
    assert koleo_loss(x).item() == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize('n,d', [(2, 3), (7, 5), (16, 32)])
def test_against_double_loop(n, d):
    x = torch.randn(n, d, generator=torch.Generator().manual_seed(n))
    assert koleo_loss(x).item() == pytest.approx(_naive(x), abs=1e-5)


def test_gradient_spreads_the_nearest_pair():
    """A gradient step moves the closest pair apart (loss decreases)."""
    x = torch.tensor([[1.0, 0.0, 0.0], [0.99, 0.05, 0.0], [0.0, 1.0, 0.0],
                      [0.0, 0.0, 1.0]], requires_grad=True)
    loss = koleo_loss(x)
    loss.backward()
    with torch.no_grad():
        assert koleo_loss(x - 0.01 * x.grad) < loss


def test_module_weight_and_errors():
    x = torch.randn(5, 4)
    module = MODELS.build(dict(type='KoLeoLoss', loss_weight=0.1))
    torch.testing.assert_close(module(x), 0.1 * koleo_loss(x))
    with pytest.raises(ValueError, match='n >= 2'):
        koleo_loss(torch.randn(1, 4))
