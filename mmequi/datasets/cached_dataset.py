"""Keep a deterministic dataset's pipeline outputs in memory.

For small probe sets trained for many epochs on frozen features (the CPU
demo), decoding the same images every epoch costs more than the probe
itself; :class:`CachedDataset` runs the wrapped dataset's pipeline once per
index and serves the packed result afterwards. It is only correct for a
deterministic pipeline (no random crop/flip, fixed pairs): the first
re-accesses are recomputed and compared, and a mismatch raises. Every
dataloader worker holds its own cache, so use ``num_workers=0`` (or
persistent workers) and mind the memory: every packed sample is kept.
"""
import copy
from typing import Any, Dict, Union

import numpy as np
import torch
from mmpretrain.registry import DATASETS

__all__ = ['CachedDataset']


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and a.shape == b.shape and \
            bool((a == b).all())
    if isinstance(a, (list, tuple)):
        return isinstance(b, (list, tuple)) and len(a) == len(b) and all(
            _equal(x, y) for x, y in zip(a, b))
    if isinstance(a, np.ndarray):
        return np.array_equal(a, b)
    return True  # data samples etc.: the images decide


def _fresh(sample):
    """A copy of a data sample whose fields can be set without touching
    the cached one (field values are shared, not copied: a deep copy per
    sample and epoch would cost more than the pipeline it saves)."""
    new = copy.copy(sample)
    for attr in ('_metainfo_fields', '_data_fields'):
        if hasattr(sample, attr):
            object.__setattr__(new, attr, set(getattr(sample, attr)))
    return new


@DATASETS.register_module()
class CachedDataset:
    """Serve ``dataset[idx]`` from memory after its first computation.

    Args:
        dataset: the wrapped dataset (config or object). A
            ``ThreeDIEBench`` in ``mode='pretrain'`` (random pairs on every
            access) is refused: use ``mode='pair'``.
        verify: how many cache hits are recomputed and compared with the
            cached result (the images must be identical); a difference
            raises ``RuntimeError``. 0 disables the check.
    """

    def __init__(self, dataset: Union[dict, Any], verify: int = 8) -> None:
        self.dataset = DATASETS.build(dataset) if isinstance(
            dataset, dict) else dataset
        if getattr(self.dataset, 'mode', None) == 'pretrain':
            raise ValueError(
                f'CachedDataset: {type(self.dataset).__name__} in '
                "mode='pretrain' draws new random pairs on every access; "
                "caching would freeze one draw. Use mode='pair' (fixed "
                'pairs, pairs_per_object=N) instead')
        self.verify = int(verify)
        self._cache: Dict[int, Any] = {}

    @property
    def metainfo(self) -> dict:
        return copy.deepcopy(self.dataset.metainfo)

    def __len__(self) -> int:
        return len(self.dataset)

    def __getattr__(self, name: str) -> Any:
        if name in ('dataset', '_cache', 'verify'):
            raise AttributeError(name)
        return getattr(self.dataset, name)

    def __getitem__(self, idx: int) -> Any:
        if idx not in self._cache:
            self._cache[idx] = self.dataset[idx]
        elif self.verify > 0:
            self.verify -= 1
            fresh = self.dataset[idx]
            if not _equal(fresh.get('inputs'),
                          self._cache[idx].get('inputs')):
                raise RuntimeError(
                    f'CachedDataset: sample {idx} of '
                    f'{type(self.dataset).__name__} changed between two '
                    'accesses; its pipeline is random (crop/flip/colour '
                    'jitter?) and must not be cached')
        out = self._cache[idx]
        # a fresh data sample each time: models write predictions into it
        return dict(out, data_samples=_fresh(out['data_samples'])) \
            if 'data_samples' in out else dict(out)

    def __repr__(self) -> str:
        return (f'CachedDataset({len(self._cache)}/{len(self)} cached) of\n'
                f'{self.dataset!r}')
