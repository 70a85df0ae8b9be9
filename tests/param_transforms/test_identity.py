"""The identity family of the plain baselines: no parameters, no change."""
import torch

import mmequi  # noqa: F401
from mmequi.param_transforms import Identity, build_param_transform

from ._helpers import smooth_images


def test_identity_returns_the_input():
    t = build_param_transform(dict(type='identity'))
    assert isinstance(t, Identity) and t.dim == 0
    theta = t.sample(3)
    assert theta.shape == (3, 0)
    img = smooth_images(3, 16, 16)
    assert torch.equal(t.apply(img, theta), img)
    v2, targets = t.intermediate(img, theta, 2)
    assert torch.equal(v2, img) and torch.equal(targets[1], img)
    assert t.max_extent() == (1.0, 0.0)
