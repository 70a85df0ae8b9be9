"""Flat indices of iBOT's masked patch tokens, made on the host.

iBOT (Zhou et al., ICLR 2022) gathers the masked patch tokens of the G
global views with a boolean mask. On a GPU, boolean indexing
(``x[masks]``) runs ``nonzero`` and waits for the device (a host sync) to
learn how many rows come out. The masks come from the data pipeline as CPU
tensors, so the data preprocessor computes, before it moves the batch to
the device, the flat indices of the True entries of the batch's
view-major mask ``(G·B, N)`` (row ``g·B + b`` = view g of image b; the
order of ``masks.nonzero()``) and stores, in data sample b,

* ``mask_token_index`` (data field, int64 (M_b,)): the flat indices
  ``(g·B + b)·N + n`` of its masked tokens, ascending (moved to the device
  with the sample);
* ``mask_token_counts`` (metainfo, G ints): how many of them belong to
  each view, and ``mask_token_grid`` (metainfo, ``(B, G, N)``): the batch
  layout the indices refer to.

:func:`gather_mask_token_index` puts them back into row-major order on the
device with one ``cat`` (no sort, no sync); ``x.flatten(0, 1)
.index_select(0, index)`` then equals ``x[masks]`` exactly.
"""
from typing import Optional, Sequence

import torch

__all__ = ['MASK_INDEX_KEY', 'add_mask_token_index',
           'gather_mask_token_index']

MASK_INDEX_KEY = 'mask_token_index'
COUNTS_KEY = 'mask_token_counts'
GRID_KEY = 'mask_token_grid'


def add_mask_token_index(data_samples: Optional[Sequence]) -> None:
    """Store the masked-token indices in every data sample (see the module
    docstring); host work, called by the data preprocessors before they
    move the batch. Does nothing when there are no data samples or they
    carry no ``mask`` (e.g. VICReg); a sample with and one without a mask,
    or masks of different shapes, are errors."""
    if not data_samples:
        return
    has = ['mask' in ds for ds in data_samples]
    if not any(has):
        return
    if not all(has):
        raise ValueError(f'{has.count(False)} of {len(has)} data samples '
                         'carry no "mask": every image needs its block masks')
    masks = [torch.as_tensor(ds.mask) for ds in data_samples]
    shapes = {tuple(m.shape) for m in masks}
    if len(shapes) != 1 or masks[0].dim() < 2:
        raise ValueError('data-sample masks must share one (G, h, w) shape, '
                         f'got {sorted(shapes)}')
    B, G = len(masks), masks[0].shape[0]
    flat = torch.stack(masks).flatten(2).bool()  # (B, G, N)
    N = flat.shape[-1]
    # row-major indices into the view-major (G·B, N) mask, then grouped by
    # image (stable: each image's stay ascending, i.e. by view, then token)
    index = flat.transpose(0, 1).flatten().nonzero()[:, 0]  # (M,)
    index = index[torch.argsort(index // N % B, stable=True)]
    counts = flat.sum(-1)  # (B, G)
    for ds, part, per_view in zip(data_samples,
                                  index.split(counts.sum(1).tolist()),
                                  counts.tolist()):
        ds.set_field(part, MASK_INDEX_KEY)
        ds.set_metainfo({COUNTS_KEY: tuple(per_view), GRID_KEY: (B, G, N)})


def gather_mask_token_index(data_samples: Sequence, num_views: int,
                            num_tokens: int) -> Optional[torch.Tensor]:
    """(M,) int64 flat indices, in row-major order, of the masked tokens of
    the batch's (G·B, N) view-major mask, from the fields
    :func:`add_mask_token_index` stored; None when the samples carry none.
    No host sync: the per-view counts are host metainfo."""
    if not data_samples or any(MASK_INDEX_KEY not in ds
                               for ds in data_samples):
        return None
    grid = (len(data_samples), num_views, num_tokens)
    parts = []
    for b, ds in enumerate(data_samples):
        if tuple(ds.metainfo.get(GRID_KEY, ())) != grid:
            raise ValueError(
                f'data sample {b} has {MASK_INDEX_KEY} for a batch of '
                f'(B, G, N) = {ds.metainfo.get(GRID_KEY)}, but the model '
                f'sees {grid}: the indices are made by the data '
                'preprocessor for the batch it is given; do not re-batch '
                'preprocessed samples')
        parts.append(ds.get(MASK_INDEX_KEY).split(list(ds.get(COUNTS_KEY))))
    return torch.cat([parts[b][g] for g in range(num_views)
                      for b in range(len(data_samples))])
