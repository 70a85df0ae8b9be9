"""Block-wise patch masks for iBOT's masked image modelling.

Reference: J. Zhou et al., *iBOT: Image BERT Pre-Training with Online
Tokenizer*, ICLR 2022 (``ImageFolderMask`` in the official ``loader.py``,
``pred_shape='block'``), which adapts the block masking of BEiT (Bao et
al., ICLR 2022, ``MaskingGenerator``).
"""
import math
import random
from numbers import Real
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmpretrain.registry import TRANSFORMS

from ._checks import check_interval, check_scalar

__all__ = ['iBOTBlockMaskGenerator']

RatioArg = Union[float, Sequence[float]]


def _as_float_list(name: str, value: RatioArg) -> List[float]:
    if isinstance(value, Real) and not isinstance(value, bool):
        return [float(value)]
    if (isinstance(value, Sequence) and not isinstance(value, str)
            and len(value) > 0
            and all(isinstance(v, Real) and not isinstance(v, bool)
                    for v in value)):
        return [float(v) for v in value]
    raise ValueError(f'{name} must be a float or a non-empty sequence of '
                     f'floats, got {value!r}')


@TRANSFORMS.register_module()
class iBOTBlockMaskGenerator(BaseTransform):
    """BEiT-style block masks on the patch grids of iBOT's global views.

    Follows the official iBOT loader (``pred_shape='block'``) step by step,
    with Python's global :mod:`random` generator in the same call order
    (``random.uniform``, ``random.choice``, ``random.randint`` with
    inclusive bounds), so a seeded ``random`` gives the official masks and
    ``EpochSeedHook`` controls them:

    1. Per global view a prediction ratio: every ``(mean, var)`` pair of
       ``pred_ratio``/``pred_ratio_var`` gives ``U(mean - var, mean + var)``
       (just ``mean`` when ``var == 0``), then one of them is chosen
       uniformly (``random.choice``). With the defaults ((0, 0.3), (0, 0.2))
       a view is unmasked with probability 1/2, otherwise its ratio is
       ``U(0.1, 0.5)``.
    2. ``high = ratio * H * W`` patches are targeted. Blocks are added while
       fewer than ``high`` patches are masked: up to 10 attempts, each with
       area ``U(min_num_patches, high - masked)``
       (``min_num_patches = (min(H, W) // 3) ** 2``), aspect ratio
       log-uniform in ``pred_aspect_ratio``, ``h = round(sqrt(area *
       aspect))``, ``w = round(sqrt(area / aspect))``; a block with ``h < H``
       and ``w < W`` at a uniform position is accepted when it adds between
       1 and ``high - masked`` new patches. Masking stops when 10 attempts in
       a row add nothing. The masked count therefore never exceeds
       ``high``.

    Unlike the official loader, masks are made only for the first
    ``num_global`` views (iBOT uses only those).

    **Required keys:** ``img`` -- list of views, (C, H, W) tensors (as from
    :class:`iBOTMultiCrop`) or (H, W, C) arrays; optional when
    ``input_size`` is given.

    **Added keys:** ``mask`` -- bool numpy array (num_global, H / patch_size,
    W / patch_size); True marks a masked (predicted) patch. ``PackInputs``
    stores it as ``data_sample.mask`` (a tensor).

    Args:
        input_size: side (int) or (H, W) of the global views; used when
            ``results['img']`` is not a list of views, and checked against
            the views otherwise. Defaults to None.
        patch_size: ViT patch size; view sides must be divisible by it.
            Defaults to 16.
        num_global: number of leading views to mask. Defaults to 2.
        pred_ratio: mean masking ratio(s), float or sequence.
            Defaults to (0.0, 0.3).
        pred_ratio_var: half-width(s) of the uniform ratio range, same
            length as ``pred_ratio``. Defaults to (0.0, 0.2).
        pred_aspect_ratio: (min, max) block aspect ratio, log-uniform.
            Defaults to (0.3, 1 / 0.3).
        max_attempts: block placement attempts before giving up.
            Defaults to 10.
    """

    def __init__(self,
                 input_size: Optional[Union[int, Sequence[int]]] = None,
                 patch_size: int = 16,
                 num_global: int = 2,
                 pred_ratio: RatioArg = (0.0, 0.3),
                 pred_ratio_var: RatioArg = (0.0, 0.2),
                 pred_aspect_ratio: Sequence[float] = (0.3, 1 / 0.3),
                 max_attempts: int = 10) -> None:
        self.patch_size = check_scalar('patch_size', patch_size, 1,
                                       integer=True)
        self.num_global = check_scalar('num_global', num_global, 1,
                                       integer=True)
        self.max_attempts = check_scalar('max_attempts', max_attempts, 1,
                                         integer=True)

        if input_size is None:
            self.input_size = None
        else:
            size = ((input_size, input_size) if isinstance(
                input_size, (int, np.integer)) else input_size)
            if (not isinstance(size, Sequence) or len(size) != 2
                    or not all(isinstance(s, (int, np.integer))
                               and not isinstance(s, bool) and s > 0
                               for s in size)):
                raise ValueError('input_size must be a positive int or an '
                                 f'(H, W) pair, got {input_size!r}')
            self.input_size = (int(size[0]), int(size[1]))
            self.grid_shape(*self.input_size)  # divisibility check

        is_list = not isinstance(pred_ratio, Real)
        ratios = _as_float_list('pred_ratio', pred_ratio)
        variances = _as_float_list('pred_ratio_var', pred_ratio_var)
        if is_list != (not isinstance(pred_ratio_var, Real)) or len(
                ratios) != len(variances):
            raise ValueError('pred_ratio and pred_ratio_var must both be '
                             'floats or sequences of the same length, got '
                             f'{pred_ratio!r} and {pred_ratio_var!r}')
        for mean, var in zip(ratios, variances):
            if not (0.0 <= var <= mean and mean + var <= 1.0):
                raise ValueError(
                    'every (pred_ratio, pred_ratio_var) pair must satisfy '
                    f'0 <= var <= ratio and ratio + var <= 1, got '
                    f'({mean}, {var})')
        self.pred_ratio = tuple(ratios) if is_list else ratios[0]
        self.pred_ratio_var = tuple(variances) if is_list else variances[0]

        self.pred_aspect_ratio = check_interval(
            'pred_aspect_ratio', pred_aspect_ratio, 0, low_open=True)
        self._log_aspect = (math.log(self.pred_aspect_ratio[0]),
                            math.log(self.pred_aspect_ratio[1]))

    def grid_shape(self, height: int, width: int) -> Tuple[int, int]:
        """Patch grid of an ``height x width`` view (clear error if the
        sides are not multiples of ``patch_size``)."""
        if height % self.patch_size or width % self.patch_size:
            raise ValueError(
                f'view size {height}x{width} is not divisible by '
                f'patch_size={self.patch_size}')
        return height // self.patch_size, width // self.patch_size

    def draw_ratio(self) -> float:
        """One prediction ratio, drawn like the official ``get_pred_ratio``.
        """
        if isinstance(self.pred_ratio, tuple):
            candidates = [
                random.uniform(mean - var, mean + var) if var > 0 else mean
                for mean, var in zip(self.pred_ratio, self.pred_ratio_var)
            ]
            return random.choice(candidates)
        if self.pred_ratio_var > 0:
            return random.uniform(self.pred_ratio - self.pred_ratio_var,
                                  self.pred_ratio + self.pred_ratio_var)
        return self.pred_ratio

    def block_mask(self, height: int, width: int, ratio: float) -> np.ndarray:
        """Bool (height, width) mask with at most ``ratio * height * width``
        patches set, grown block by block (BEiT/iBOT algorithm)."""
        return self.grow_blocks(height, width, ratio * height * width,
                                (min(height, width) // 3)**2)

    def grow_blocks(self, height: int, width: int, target: float,
                    min_patches: float,
                    max_block: Optional[float] = None) -> np.ndarray:
        """Bool (height, width) mask grown block by block (class docstring,
        step 2) until ``target`` patches are masked or 10 attempts in a row
        add nothing; block areas are drawn from ``U(min_patches, m)`` with
        ``m`` the patches still to mask, capped at ``max_block`` when given
        (DINOv2's ``max_num_patches``; None = iBOT, no cap)."""
        mask = np.zeros((height, width), dtype=bool)
        count = 0
        while count < target:
            max_mask = target - count
            if max_block is not None:
                max_mask = min(max_mask, max_block)
            delta = 0
            for _ in range(self.max_attempts):
                target_area = random.uniform(min_patches, max_mask)
                aspect = math.exp(random.uniform(*self._log_aspect))
                h = int(round(math.sqrt(target_area * aspect)))
                w = int(round(math.sqrt(target_area / aspect)))
                if w < width and h < height:
                    top = random.randint(0, height - h)
                    left = random.randint(0, width - w)
                    block = mask[top:top + h, left:left + w]
                    new = h * w - int(block.sum())
                    if 0 < new <= max_mask:
                        block[...] = True
                        delta = new
                if delta > 0:
                    break
            if delta == 0:
                break
            count += delta
        return mask

    def _views_size(self, results: Dict) -> Tuple[int, int]:
        views = results.get('img')
        if isinstance(views, (list, tuple)):
            if len(views) < self.num_global:
                raise ValueError(
                    f'iBOTBlockMaskGenerator needs {self.num_global} views '
                    f'in results["img"], got {len(views)}')
            sizes = set()
            for view in views[:self.num_global]:
                if isinstance(view, torch.Tensor) and view.ndim >= 2:
                    sizes.add(tuple(view.shape[-2:]))  # (C, H, W)
                elif isinstance(view, np.ndarray) and view.ndim >= 2:
                    sizes.add(tuple(view.shape[:2]))  # (H, W, C)
                else:
                    raise TypeError('views must be (C, H, W) tensors or '
                                    '(H, W, C) arrays, got '
                                    f'{type(view).__name__}')
            if len(sizes) != 1:
                raise ValueError('the global views differ in size: '
                                 f'{sorted(sizes)}')
            size = sizes.pop()
            if self.input_size is not None and size != self.input_size:
                raise ValueError(f'global views are {size[0]}x{size[1]} but '
                                 f'input_size={self.input_size}')
            return int(size[0]), int(size[1])
        if self.input_size is not None:
            return self.input_size
        raise ValueError('iBOTBlockMaskGenerator needs results["img"] to be '
                         'a list of views (put it after iBOTMultiCrop) or '
                         'input_size to be set')

    def transform(self, results: Dict) -> Dict:
        """Add ``results['mask']``: bool (num_global, H/p, W/p)."""
        grid_h, grid_w = self.grid_shape(*self._views_size(results))
        results['mask'] = np.stack([
            self.block_mask(grid_h, grid_w, self.draw_ratio())
            for _ in range(self.num_global)
        ])
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(input_size={self.input_size}, '
                f'patch_size={self.patch_size}, '
                f'num_global={self.num_global}, '
                f'pred_ratio={self.pred_ratio}, '
                f'pred_ratio_var={self.pred_ratio_var}, '
                f'pred_aspect_ratio={self.pred_aspect_ratio}, '
                f'max_attempts={self.max_attempts})')
