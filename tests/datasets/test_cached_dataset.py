import numpy as np
import pytest
import torch
from mmpretrain.structures import DataSample

from mmequi.datasets import CachedDataset


class _Counting:
    """A dataset whose pipeline counts its calls (random if asked)."""

    metainfo = dict(classes=('a', 'b'))

    def __init__(self, n=4, random=False, mode=None):
        self.n, self.random, self.calls = n, random, 0
        if mode is not None:
            self.mode = mode

    def __len__(self):
        return self.n

    def __getitem__(self, idx):
        self.calls += 1
        img = torch.full((3, 2, 2), idx, dtype=torch.uint8)
        if self.random:
            img = img + torch.randint(0, 5, (3, 2, 2), dtype=torch.uint8)
        sample = DataSample(metainfo=dict(sample_idx=idx))
        sample.set_gt_label(idx % 2)
        return dict(inputs=img, data_samples=sample)


def test_second_access_served_from_memory_and_verified():
    inner = _Counting()
    ds = CachedDataset(inner, verify=2)
    first = [ds[i] for i in range(4)]
    assert inner.calls == 4
    again = [ds[i] for i in range(4)]  # 2 verified re-accesses recompute
    assert inner.calls == 6
    [ds[i] for i in range(4)]
    assert inner.calls == 6
    for a, b in zip(first, again):
        assert torch.equal(a['inputs'], b['inputs'])
    assert len(ds) == 4 and ds.metainfo == inner.metainfo


def test_returned_samples_are_independent_copies():
    ds = CachedDataset(_Counting(), verify=0)
    out = ds[1]['data_samples']
    out.set_field(torch.ones(2), 'pred_rot')  # what a model does
    out.set_gt_label(0)
    fresh = ds[1]['data_samples']
    assert 'pred_rot' not in fresh
    assert int(fresh.gt_label) == 1 and fresh.sample_idx == 1


def test_random_pipeline_is_detected():
    torch.manual_seed(0)
    ds = CachedDataset(_Counting(random=True), verify=4)
    ds[0]
    with pytest.raises(RuntimeError, match='sample 0 .* random'):
        for _ in range(4):
            ds[0]


def test_random_pairs_refused():
    with pytest.raises(ValueError, match="mode='pair'"):
        CachedDataset(_Counting(mode='pretrain'))


def test_numpy_inputs_compared():
    from mmequi.datasets.cached_dataset import _equal
    assert _equal(np.zeros(3), np.zeros(3))
    assert not _equal(np.zeros(3), np.ones(3))
    assert not _equal([torch.zeros(2)], [torch.zeros(3)])
