"""DINOv2's batch-level block masks, drawn when the batch is collated.

Oquab et al., "DINOv2: Learning Robust Visual Features without
Supervision", TMLR 2024 (``ibot.mask_sample_probability 0.5``,
``ibot.mask_ratio_min_max [0.1, 0.5]``; its ``collate_data_and_cast`` and
``MaskingGenerator``). Instead of iBOT's per-image coin flip
(:class:`~mmequi.datasets.transforms.iBOTBlockMaskGenerator`), each batch
of ``C = G·B`` global crops (G views of B images) gets masks as follows:

1. ``n = int(C · p)`` crops are masked (p = ``mask_probability``), the
   other ``C - n`` not at all;
2. masked crop ``i`` (0 <= i < n) targets ``int(N · U(r_i, r_{i+1}))`` of
   its N patches, with ``r = linspace(min, max, n + 1)``: the ratios are
   spread evenly over ``[min, max]``;
3. the C masks (n targeted, C - n empty) are shuffled and assigned to the
   crops in view-major order (crop ``g·B + b`` = view g of image b).

Each targeted mask is grown block by block as iBOT's (log-uniform aspect
ratio in (0.3, 1/0.3), at most 10 attempts per block) with DINOv2's block
bounds: area at least ``min_num_patches`` (4) and at most
``max_block_ratio · N`` (0.5 · N) patches per block; the masked count never
exceeds the target. Python's :mod:`random` draws everything (in the
dataloader workers, seeded as the pipeline's transforms).

The masks are stored as ``data_sample.mask`` (bool (G, h, w)), exactly as
the pipeline's block-mask transform would; the data preprocessors then make
the host-side masked-token index
(:mod:`~mmequi.models.data_preprocessors.mask_index`) unchanged.
"""
import random
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmengine.dataset import default_collate
from mmengine.registry import FUNCTIONS

from .transforms import iBOTBlockMaskGenerator
from .transforms._checks import check_interval, check_scalar

__all__ = ['dinov2_mask_targets', 'dinov2_batch_masks',
           'dinov2_mask_collate']


def dinov2_mask_targets(num_crops: int, num_patches: int,
                        mask_probability: float,
                        mask_ratio: Sequence[float]) -> List[int]:
    """Targeted masked-patch counts of ``num_crops`` crops of
    ``num_patches`` patches (module docstring, steps 1-3), shuffled with
    :mod:`random`; entry k belongs to crop k (view-major)."""
    n = int(num_crops * mask_probability)
    edges = torch.linspace(float(mask_ratio[0]), float(mask_ratio[1]),
                           n + 1).tolist()
    targets = [int(num_patches * random.uniform(edges[i], edges[i + 1]))
               for i in range(n)] + [0] * (num_crops - n)
    random.shuffle(targets)
    return targets


def dinov2_batch_masks(batch_size: int, grid: Tuple[int, int],
                       num_global: int = 2, mask_probability: float = 0.5,
                       mask_ratio: Sequence[float] = (0.1, 0.5),
                       min_num_patches: int = 4,
                       max_block_ratio: float = 0.5,
                       aspect_ratio: Sequence[float] = (0.3, 1 / 0.3)
                       ) -> np.ndarray:
    """Bool (batch_size, num_global, h, w) masks of one batch (module
    docstring); ``grid`` = (h, w) patches of a global crop."""
    check_scalar('mask_probability', mask_probability, 0, 1)
    lo, hi = check_interval('mask_ratio', mask_ratio, 0, 1)
    check_scalar('min_num_patches', min_num_patches, 0)
    check_scalar('max_block_ratio', max_block_ratio, 0, 1, low_open=True)
    h, w = grid
    grower = iBOTBlockMaskGenerator(pred_aspect_ratio=aspect_ratio)
    targets = dinov2_mask_targets(num_global * batch_size, h * w,
                                  mask_probability, (lo, hi))
    masks = np.zeros((num_global, batch_size, h, w), dtype=bool)
    for k, target in enumerate(targets):
        if target:
            masks[k // batch_size, k % batch_size] = grower.grow_blocks(
                h, w, target, min_num_patches, max_block_ratio * h * w)
    return masks.transpose(1, 0, 2, 3)


def _global_grid(inputs, num_global: int, patch_size: int,
                 input_size: Optional[Union[int, Sequence[int]]]
                 ) -> Tuple[int, int]:
    """(h, w) patch grid of the global crops of a collated batch."""
    if input_size is not None:
        size = (input_size, input_size) if isinstance(input_size, int) \
            else tuple(input_size)
    elif isinstance(inputs, (list, tuple)) and len(inputs) >= num_global:
        sizes = {tuple(v.shape[-2:]) for v in inputs[:num_global]}
        if len(sizes) != 1:
            raise ValueError(f'dinov2_mask_collate: the {num_global} global '
                             f'views differ in size: {sorted(sizes)}')
        size = sizes.pop()
    else:
        raise ValueError(
            'dinov2_mask_collate needs inputs to be a list of at least '
            f'num_global={num_global} collated views (iBOTMultiCrop in the '
            'pipeline) or input_size=(H, W) of the global crops')
    if size[0] % patch_size or size[1] % patch_size:
        raise ValueError(f'dinov2_mask_collate: global crop size {size} is '
                         f'not divisible by patch_size={patch_size}')
    return size[0] // patch_size, size[1] // patch_size


@FUNCTIONS.register_module()
def dinov2_mask_collate(data_batch: Sequence, patch_size: int = 16,
                        num_global: int = 2, mask_probability: float = 0.5,
                        mask_ratio: Sequence[float] = (0.1, 0.5),
                        min_num_patches: int = 4,
                        max_block_ratio: float = 0.5,
                        aspect_ratio: Sequence[float] = (0.3, 1 / 0.3),
                        input_size: Optional[Union[int, Sequence[int]]] = None
                        ) -> dict:
    """``default_collate`` plus DINOv2's batch-level block masks in every
    data sample (``data_sample.mask``, bool (num_global, h, w)).

    Use as ``train_dataloader.collate_fn = dict(type='dinov2_mask_collate',
    patch_size=16)`` with no block-mask transform in the pipeline (a sample
    that already carries a mask is an error). ``input_size`` (side or
    (H, W)) is only needed when the inputs are not a list of views.
    """
    data = default_collate(data_batch)
    samples = data.get('data_samples') if isinstance(data, dict) else None
    if not samples:
        raise ValueError('dinov2_mask_collate needs PackInputs samples '
                         '(dicts with data_samples)')
    if any('mask' in ds for ds in samples):
        raise ValueError(
            'dinov2_mask_collate: the samples already carry a "mask" (is '
            'iBOTBlockMaskGenerator still in the pipeline?); the batch masks '
            'replace it')
    grid = _global_grid(data['inputs'], num_global, patch_size, input_size)
    masks = dinov2_batch_masks(len(samples), grid, num_global,
                               mask_probability, mask_ratio,
                               min_num_patches, max_block_ratio, aspect_ratio)
    for ds, mask in zip(samples, masks):
        ds.set_mask(torch.from_numpy(np.ascontiguousarray(mask)))
    return data
