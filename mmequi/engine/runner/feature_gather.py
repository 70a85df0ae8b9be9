"""Frozen-feature extraction over a (distributed) dataloader, gathered in
dataset order.

Every rank runs the model on its shard of the dataloader; the shards are
then all-gathered (``mmengine.dist.all_gather``) and put back in dataset
order by each sample's ``sample_idx`` (mmengine's ``BaseDataset`` writes it
into every data info and mmpretrain's ``PackInputs`` keeps it in the data
sample's metainfo). Keying on the index, not on the sampler's layout, makes
the result independent of the sampler:

* mmengine's ``DefaultSampler`` (``round_up=True``) pads the index list to
  a multiple of the world size by repeating its head, so some samples are
  extracted twice; the first occurrence (rank order, then position) is
  kept and the copies are dropped;
* shuffled or uneven shards work the same; a sample that no rank saw is an
  error naming how many are missing.

Memory: the gathered shards (world x the longest shard) and the output
(dataset size) coexist once, i.e. about twice the feature bank.
"""
import time
from typing import Callable, List, Sequence, Tuple

import torch
from mmengine.dist import all_gather, get_world_size
from mmengine.logging import print_log

__all__ = ['merge_by_index', 'gather_by_index', 'extract_features',
           'batch_labels_and_indices']


def merge_by_index(parts: Sequence[Sequence[torch.Tensor]],
                   part_indices: Sequence[torch.Tensor],
                   size: int) -> List[torch.Tensor]:
    """Put per-rank rows back in dataset order, dropping duplicates.

    Args:
        parts: ``parts[r]`` is a list of T tensors of rank r, each
            ``(n_r, ...)`` (e.g. features and labels).
        part_indices: ``part_indices[r]`` (n_r,) dataset indices of those
            rows.
        size: the dataset length N.

    Returns:
        T tensors ``(N, ...)``: row i holds the first occurrence (in rank
        order, then row order) of index i.

    Raises:
        ValueError: an index outside ``[0, N)``, or indices missing.
    """
    if len(parts) != len(part_indices) or not parts:
        raise ValueError(f'{len(parts)} parts but {len(part_indices)} index '
                         'tensors')
    num = len(parts[0])
    first = next((p for p in parts if p[0].shape[0] > 0), parts[0])
    outs = [torch.empty((size, *t.shape[1:]), dtype=t.dtype, device=t.device)
            for t in first]
    seen = torch.zeros(size, dtype=torch.bool, device=first[0].device)
    for rank, (tensors, idx) in enumerate(zip(parts, part_indices)):
        if len(tensors) != num:
            raise ValueError(f'rank {rank} gives {len(tensors)} tensors, '
                             f'rank 0 gives {num}')
        idx = idx.to(seen.device).long()
        if idx.numel() == 0:
            continue
        if int(idx.min()) < 0 or int(idx.max()) >= size:
            raise ValueError(
                f'rank {rank}: sample index {int(idx.max())} or '
                f'{int(idx.min())} outside the dataset of {size} samples '
                '(a dataset wrapper that renumbers samples?)')
        # first occurrence of every index within this part (stable sort)
        order = torch.argsort(idx, stable=True)
        sorted_idx = idx[order]
        keep = torch.ones_like(sorted_idx, dtype=torch.bool)
        keep[1:] = sorted_idx[1:] != sorted_idx[:-1]
        rows = order[keep]
        rows = rows[~seen[idx[rows]]]  # not taken by an earlier rank
        target = idx[rows]
        for out, t in zip(outs, tensors):
            out[target] = t[rows.to(t.device)].to(out.device)
        seen[target] = True
    missing = int((~seen).sum())
    if missing:
        first_missing = torch.nonzero(~seen)[:5, 0].tolist()
        raise ValueError(
            f'{missing} of {size} dataset samples were extracted by no rank '
            f'(e.g. indices {first_missing}): a sampler with drop_last or a '
            'subset sampler? Feature banks need every sample once.')
    return outs


def gather_by_index(tensors: Sequence[torch.Tensor], indices: torch.Tensor,
                    size: int) -> List[torch.Tensor]:
    """All-gather this rank's rows (``tensors``, each (n, ...), with their
    dataset ``indices`` (n,)) from every rank and return them in dataset
    order (:func:`merge_by_index`). Shards may differ in length (padded for
    the collective). Single process: only the reordering/checks."""
    tensors = list(tensors)
    indices = indices.long().to(tensors[0].device)
    if any(t.shape[0] != indices.shape[0] for t in tensors):
        raise ValueError('every tensor needs one row per index: '
                         f'{[tuple(t.shape) for t in tensors]} vs '
                         f'{tuple(indices.shape)}')
    world = get_world_size()
    if world == 1:
        return merge_by_index([tensors], [indices], size)
    device = tensors[0].device
    n = torch.tensor([indices.shape[0]], dtype=torch.long, device=device)
    counts = [int(c) for c in all_gather(n)]
    longest = max(counts)

    def padded(t: torch.Tensor) -> torch.Tensor:
        pad = t.new_zeros((longest - t.shape[0], *t.shape[1:]))
        return torch.cat([t, pad]) if pad.shape[0] else t

    gathered_idx = all_gather(padded(indices))
    gathered = [all_gather(padded(t)) for t in tensors]  # [T][world]
    parts = [[g[r][:counts[r]] for g in gathered] for r in range(world)]
    part_idx = [gathered_idx[r][:counts[r]] for r in range(world)]
    del gathered
    return merge_by_index(parts, part_idx, size)


def batch_labels_and_indices(data_batch: dict
                             ) -> Tuple[torch.Tensor, torch.Tensor]:
    """``gt_label`` (B,) and ``sample_idx`` (B,) of a batch's data samples
    (before the data preprocessor), with clear errors when missing."""
    samples = data_batch.get('data_samples') if isinstance(
        data_batch, dict) else None
    if not samples:
        raise KeyError('the dataloader gives no data_samples: use '
                       "PackInputs and a dataset with labels")
    labels, idx = [], []
    for i, s in enumerate(samples):
        if 'gt_label' not in s:
            raise KeyError(f'data_samples[{i}] has no gt_label: the '
                           'feature dataloader needs a labelled dataset')
        if 'sample_idx' not in s.metainfo:
            raise KeyError(
                f'data_samples[{i}] has no sample_idx in its metainfo (needed '
                'to put distributed shards back in dataset order): keep '
                "'sample_idx' in PackInputs' meta_keys (the default)")
        label = torch.as_tensor(s.gt_label).reshape(-1)
        if label.numel() != 1:
            raise ValueError(f'data_samples[{i}].gt_label has {label.numel()}'
                             ' entries; single-label data is needed')
        labels.append(int(label[0]))
        idx.append(int(s.metainfo['sample_idx']))
    return torch.tensor(labels), torch.tensor(idx)


@torch.no_grad()
def extract_features(dataloader, forward: Callable[[dict], torch.Tensor],
                     name: str = 'features', log_interval: int = 0
                     ) -> Tuple[torch.Tensor, torch.Tensor]:
    """Features and labels of a whole dataset, in dataset order, on every
    rank.

    Args:
        dataloader: a (distributed) dataloader of a labelled dataset.
        forward: ``data_batch -> (B, D)`` features (the caller does the
            preprocessing and puts the model in eval mode).
        name: used in the progress log.
        log_interval: log progress every so many batches (0: never).

    Returns:
        ``feats (N, D) float32, labels (N,) long`` on the device of the
        features, ``N = len(dataloader.dataset)``.
    """
    feats, labels, indices = [], [], []
    total = len(dataloader)
    start = time.time()
    for i, data_batch in enumerate(dataloader):
        lab, idx = batch_labels_and_indices(data_batch)
        f = forward(data_batch)
        if f.dim() != 2 or f.shape[0] != lab.shape[0]:
            raise ValueError(f'{name}: the forward gave features of shape '
                             f'{tuple(f.shape)} for a batch of '
                             f'{lab.shape[0]}; expected (B, D)')
        feats.append(f.float())
        labels.append(lab.to(f.device))
        indices.append(idx.to(f.device))
        if log_interval and ((i + 1) % log_interval == 0 or i + 1 == total):
            print_log(f'{name}: [{i + 1}/{total}] batches, '
                      f'{time.time() - start:.1f} s', logger='current')
    size = len(dataloader.dataset)
    if not feats:
        raise ValueError(f'{name}: this rank got no batch (dataset of '
                         f'{size} samples)')
    out = gather_by_index([torch.cat(feats), torch.cat(labels)],
                          torch.cat(indices), size)
    return out[0], out[1]
