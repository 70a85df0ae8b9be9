"""An in-memory cache of frozen-backbone features, keyed by view name.

A probe on a frozen backbone sees the same images (deterministic pipeline:
resize, no augmentation) every epoch, so the backbone's features of a view
never change: computing them once turns e.g. SIE's 300-epoch 3DIEBench
probes into one backbone pass plus 300 epochs of a small MLP. The cache
lives in host memory, per process (in DDP every rank caches the views it
sees): ViT-S features of all 2.1 M 3DIEBench training renders take
2.1 M × 384 × 4 B ≈ 3.2 GB in float32 (half in float16).

Correctness guard: a cache is only right if the pipeline is
deterministic. :meth:`FeatureCache.verify` recomputes the first batch that
hits the cache (configurable) and raises if the stored features differ,
e.g. because the probe pipeline has a random flip or crop.
"""
from typing import Dict, List, Optional, Sequence, Tuple

import torch

__all__ = ['FeatureCache', 'CacheMismatchError']


class CacheMismatchError(RuntimeError):
    """A cached feature differs from a recomputed one."""


class FeatureCache:
    """``name -> feature (C,)`` on the CPU.

    Args:
        dtype: storage dtype (``'float32'`` or ``'float16'``).
        verify_batches: how many batches with cache hits are recomputed and
            compared with the stored features (0 disables the check).
        atol, rtol: tolerances of that check (relative to the features'
            scale; float16 storage needs ~1e-3).
    """

    def __init__(self, dtype: str = 'float32', verify_batches: int = 1,
                 atol: float = 1e-4, rtol: float = 1e-3) -> None:
        if dtype not in ('float32', 'float16'):
            raise ValueError(f"dtype={dtype!r}: choose 'float32' or "
                             "'float16'")
        self.dtype = getattr(torch, dtype)
        self.verify_batches = int(verify_batches)
        self.atol, self.rtol = atol, rtol
        self._store: Dict[str, torch.Tensor] = {}
        self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._store)

    def __contains__(self, key: str) -> bool:
        return key in self._store

    def clear(self) -> None:
        self._store.clear()
        self.hits = self.misses = 0

    @staticmethod
    def full_key(key: str, training: bool) -> str:
        """Training and evaluation views are cached apart (their pipelines
        may differ)."""
        return f'{"train" if training else "eval"}|{key}'

    def needs(self, keys: Sequence[str], training: bool) -> bool:
        """Whether the images of these views are needed: some are not
        cached, or a verification is still due."""
        return self.verify_batches > 0 or any(
            self.full_key(k, training) not in self._store for k in keys)

    def split(self, keys: Sequence[str]) -> Tuple[List[int], List[int]]:
        """Indices of ``keys`` that are cached and of those that are not."""
        hit = [i for i, k in enumerate(keys) if k in self._store]
        hit_set = set(hit)
        miss = [i for i in range(len(keys)) if i not in hit_set]
        self.hits += len(hit)
        self.misses += len(miss)
        return hit, miss

    def get(self, keys: Sequence[str], device: torch.device,
            dtype: torch.dtype = torch.float32) -> torch.Tensor:
        """Stacked features ``(len(keys), C)`` of cached keys."""
        return torch.stack([self._store[k] for k in keys]).to(
            device=device, dtype=dtype)

    def put(self, keys: Sequence[str], feats: torch.Tensor) -> None:
        """Store ``feats`` ``(len(keys), C)`` (detached, CPU)."""
        if feats.shape[0] != len(keys):
            raise ValueError(f'{len(keys)} keys for {feats.shape[0]} '
                             'features')
        stored = feats.detach().to('cpu', self.dtype)
        for k, f in zip(keys, stored):
            self._store[k] = f.clone()

    def verify(self, keys: Sequence[str], fresh: torch.Tensor) -> bool:
        """Compare ``fresh`` features ``(len(keys), C)`` with the cached
        ones (while ``verify_batches`` checks are left); raise
        :class:`CacheMismatchError` naming the first differing key. Returns
        whether a check ran."""
        if self.verify_batches <= 0 or not keys:
            return False
        self.verify_batches -= 1
        cached = self.get(keys, fresh.device, fresh.dtype)
        scale = fresh.abs().amax().clamp_min(1e-12)
        diff = (cached - fresh).abs() > self.atol * scale + \
            self.rtol * fresh.abs()
        bad = diff.any(dim=1).nonzero().flatten()
        if bad.numel():
            i = int(bad[0])
            err = float((cached[i] - fresh[i]).abs().max())
            raise CacheMismatchError(
                f'cached features of view "{keys[i]}" differ from a fresh '
                f'forward pass (max abs diff {err:.3g}) for {bad.numel()} of '
                f'{len(keys)} views: the probe pipeline is not '
                'deterministic (random crop/flip/colour?). Make it '
                'deterministic or set cache_features=False.')
        return True

    def stats(self) -> Optional[str]:
        total = self.hits + self.misses
        if not total:
            return None
        return (f'{len(self)} views cached, hit rate '
                f'{100.0 * self.hits / total:.1f} % of {total} lookups')
