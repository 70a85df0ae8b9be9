"""A generated image-classification set in ImageNet's folder layout.

``ROOT/{train,val}/<class>/<index>.png``: one coloured shape per image
(circle, square, triangle, cross, ...) at a random position, size, colour
and background. It is what ``make demo`` trains on until the equivariance
demo exists, and what the end-to-end tests use; mmpretrain's
``CustomDataset`` reads it like any ImageNet-style folder.
"""
import os
import os.path as osp
from typing import Dict, Sequence

import cv2
import numpy as np

SHAPES: Sequence[str] = ('circle', 'square', 'triangle', 'cross', 'ring',
                         'bar')


def _draw(shape: str, size: int, rng: np.random.Generator) -> np.ndarray:
    img = np.empty((size, size, 3), np.uint8)
    img[:] = rng.integers(0, 96, 3)  # dark background, (H, W, 3) BGR
    color = tuple(int(c) for c in rng.integers(128, 256, 3))
    r = int(rng.uniform(0.2, 0.35) * size)
    cx, cy = (int(v) for v in rng.integers(r, size - r, 2))
    thick = max(1, size // 16)
    if shape == 'circle':
        cv2.circle(img, (cx, cy), r, color, -1)
    elif shape == 'square':
        cv2.rectangle(img, (cx - r, cy - r), (cx + r, cy + r), color, -1)
    elif shape == 'triangle':
        pts = np.array([[cx, cy - r], [cx - r, cy + r], [cx + r, cy + r]])
        cv2.fillPoly(img, [pts.astype(np.int32)], color)
    elif shape == 'cross':
        cv2.line(img, (cx - r, cy - r), (cx + r, cy + r), color, thick)
        cv2.line(img, (cx - r, cy + r), (cx + r, cy - r), color, thick)
    elif shape == 'ring':
        cv2.circle(img, (cx, cy), r, color, thick)
    elif shape == 'bar':
        cv2.rectangle(img, (cx - r, cy - r // 3), (cx + r, cy + r // 3),
                      color, -1)
    else:
        raise ValueError(f'unknown shape {shape!r}; choose from {SHAPES}')
    return img


def make_toy_shapes(out: str,
                    num_classes: int = 4,
                    train_per_class: int = 128,
                    val_per_class: int = 32,
                    size: int = 32,
                    seed: int = 0) -> Dict[str, int]:
    """Write the data set to ``out``; deterministic for ``seed``.

    Returns the number of images written per split. Refuses to write into a
    non-empty ``out`` (nothing is silently overwritten).
    """
    if not 1 <= num_classes <= len(SHAPES):
        raise ValueError(
            f'num_classes={num_classes}: must be in 1..{len(SHAPES)}')
    if osp.isdir(out) and os.listdir(out):
        raise FileExistsError(f'{out} exists and is not empty')
    rng = np.random.default_rng(seed)
    counts = {}
    for split, n in (('train', train_per_class), ('val', val_per_class)):
        for shape in SHAPES[:num_classes]:
            folder = osp.join(out, split, shape)
            os.makedirs(folder, exist_ok=True)
            for i in range(n):
                cv2.imwrite(osp.join(folder, f'{i:05d}.png'),
                            _draw(shape, size, rng))
        counts[split] = n * num_classes
    return counts
