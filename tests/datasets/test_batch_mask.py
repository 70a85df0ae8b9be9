"""DINOv2's batch-level masks: exactly int(C·p) of the C global crops are
masked, their targets stratified over [min, max] (hand count), masks never
exceed their targets, and the collate stores them where the masked-token
index finds them."""
import functools
import random

import numpy as np
import pytest
import torch
from mmengine.registry import FUNCTIONS
from mmpretrain.structures import DataSample

from mmequi.datasets import (dinov2_batch_masks, dinov2_mask_collate,
                             dinov2_mask_targets)
from mmequi.models.data_preprocessors import add_mask_token_index


@pytest.mark.parametrize('crops,p,masked', [(16, 0.5, 8), (6, 0.5, 3),
                                            (7, 0.5, 3), (10, 0.25, 2),
                                            (4, 0.0, 0)])
def test_targets_hand_count(crops, p, masked):
    N = 196
    for seed in range(5):
        random.seed(seed)
        targets = dinov2_mask_targets(crops, N, p, (0.1, 0.5))
        assert len(targets) == crops
        hit = sorted(t for t in targets if t)
        assert len(hit) == masked  # exactly, not a coin flip per crop
        # masked crop i targets int(N * U(edge_i, edge_i+1)), edges evenly
        # spaced over [0.1, 0.5] (written out by hand)
        edges = [0.1 + 0.4 * i / max(masked, 1) for i in range(masked + 1)]
        for i, t in enumerate(hit):
            assert int(N * edges[i]) - 1 <= t <= N * edges[i + 1], (i, t)


def test_targets_are_shuffled_over_the_crops():
    firsts = set()
    for seed in range(40):
        random.seed(seed)
        firsts.add(bool(dinov2_mask_targets(16, 196, 0.5, (0.1, 0.5))[0]))
    assert firsts == {True, False}


def test_masks_follow_their_targets_view_major():
    B, G, grid = 8, 2, (14, 14)
    for seed in range(5):
        random.seed(seed)
        targets = dinov2_mask_targets(G * B, 196, 0.5, (0.1, 0.5))
        random.seed(seed)
        masks = dinov2_batch_masks(B, grid, G)
        assert masks.shape == (B, G, 14, 14) and masks.dtype == bool
        counts = masks.sum((2, 3))  # (B, G)
        for k, t in enumerate(targets):  # crop k = view k // B, image k % B
            c = counts[k % B, k // B]
            assert c <= t
            assert (c > 0) == (t > 0), (seed, k, c, t)
        assert (counts > 0).sum() == 8


def _batch(B, size=64, num_local=2):
    views = [torch.zeros(3, size, size)] * 2 + \
        [torch.zeros(3, size // 2, size // 2)] * num_local
    return [dict(inputs=list(views), data_samples=DataSample())
            for _ in range(B)]


def test_collate_as_the_runner_builds_it():
    collate = functools.partial(FUNCTIONS.get('dinov2_mask_collate'),
                                patch_size=8, mask_probability=0.5)
    random.seed(0)
    data = collate(_batch(6))
    masks = torch.stack([ds.mask for ds in data['data_samples']])
    assert masks.shape == (6, 2, 8, 8) and masks.dtype == torch.bool
    assert int((masks.flatten(2).sum(-1) > 0).sum()) == 6  # int(12 * 0.5)
    assert [tuple(v.shape) for v in data['inputs']] == \
        [(6, 3, 64, 64)] * 2 + [(6, 3, 32, 32)] * 2
    add_mask_token_index(data['data_samples'])  # host index as for iBOT
    assert sum(len(ds.mask_token_index) for ds in data['data_samples']) == \
        int(masks.sum())


def test_collate_errors_name_the_problem():
    batch = _batch(2)
    batch[0]['data_samples'].set_mask(np.zeros((2, 4, 4), bool))
    with pytest.raises(ValueError, match='iBOTBlockMaskGenerator'):
        dinov2_mask_collate(batch)
    with pytest.raises(ValueError, match='not divisible by patch_size=24'):
        dinov2_mask_collate(_batch(2), patch_size=24)
    raw = [dict(inputs=torch.zeros(3, 64, 64), data_samples=DataSample())
           for _ in range(2)]
    with pytest.raises(ValueError, match='input_size'):
        dinov2_mask_collate(raw)
    data = dinov2_mask_collate(raw, input_size=64)
    assert data['data_samples'][0].mask.shape == (2, 4, 4)
    with pytest.raises(ValueError, match='mask_probability'):
        dinov2_batch_masks(2, (4, 4), mask_probability=1.5)
