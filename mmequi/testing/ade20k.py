"""A tiny generated ADE20K (SceneParsing, ADEChallengeData2016) fixture.

Writes the exact on-disk layout that mmseg's ``ADE20KDataset`` reads
(Zhou et al., "Scene Parsing through ADE20K Dataset", CVPR 2017; the
``ADEChallengeData2016.zip`` release)::

    ROOT/ADEChallengeData2016/
        images/training/ADE_train_00000001.jpg       RGB JPEG
        images/validation/ADE_val_00000001.jpg
        annotations/training/ADE_train_00000001.png  uint8, one channel
        annotations/validation/ADE_val_00000001.png

Label values are ``0..150``: 0 = "other"/unlabelled (mmseg's
``reduce_zero_label=True`` maps it to 255 = ignore and 1..150 to 0..149).
Each image is a random background class plus a few filled rectangles and
circles of other classes; the image colour of a region is a fixed function
of its class (plus noise), so the labels are learnable from the pixels.
"""
import os
import os.path as osp
from typing import Tuple

import cv2
import numpy as np

from ._checks import check_split_sizes, write_image

#: ADE20K SceneParsing: 150 classes (label values 1..150, 0 = ignore)
NUM_CLASSES = 150


def _class_colours(rng: np.random.Generator) -> np.ndarray:
    """(151, 3) uint8 BGR colour per label value (row 0: unlabelled)."""
    return rng.integers(0, 256, (NUM_CLASSES + 1, 3), dtype=np.uint8)


def _sample(h: int, w: int, colours: np.ndarray,
            rng: np.random.Generator) -> Tuple[np.ndarray, np.ndarray]:
    """One (image (h, w, 3) uint8 BGR, label (h, w) uint8) pair."""
    label = np.full((h, w), rng.integers(1, NUM_CLASSES + 1), np.uint8)
    for _ in range(int(rng.integers(2, 6))):
        cls = int(rng.integers(0, NUM_CLASSES + 1))  # 0: an ignore region
        y0, x0 = int(rng.integers(0, h)), int(rng.integers(0, w))
        if rng.random() < 0.5:
            y1 = int(rng.integers(y0 + 1, h + 1))
            x1 = int(rng.integers(x0 + 1, w + 1))
            label[y0:y1, x0:x1] = cls
        else:
            r = int(rng.integers(2, max(3, min(h, w) // 3)))
            cv2.circle(label, (x0, y0), r, cls, -1)
    img = colours[label].astype(np.int16)
    img += rng.integers(-20, 21, img.shape, dtype=np.int16)
    return np.clip(img, 0, 255).astype(np.uint8), label


def make_ade20k(root: str, num_train: int = 4, num_val: int = 2,
                size: Tuple[int, int] = (64, 96), seed: int = 0) -> str:
    """Write a tiny ADE20K in its real layout under ``root``.

    Args:
        root: output folder (created); ``ADEChallengeData2016`` goes in it.
        num_train: images in ``images/training`` (>= 1).
        num_val: images in ``images/validation`` (>= 1).
        size: ``(height, width)`` of every image, in pixels.
        seed: random seed (same arguments -> same files).

    Returns:
        ``ROOT/ADEChallengeData2016``, the ``data_root`` of mmseg's
        ``ADE20KDataset`` (``data_prefix=dict(img_path='images/training',
        seg_map_path='annotations/training')``).

    Raises:
        ValueError: a count below 1 or a non-positive size.
    """
    h, w = check_split_sizes(
        'make_ade20k', dict(num_train=num_train, num_val=num_val), size)
    rng = np.random.default_rng(seed)
    colours = _class_colours(rng)
    data_root = osp.join(root, 'ADEChallengeData2016')
    for split, tag, count in (('training', 'train', num_train),
                              ('validation', 'val', num_val)):
        img_dir = osp.join(data_root, 'images', split)
        ann_dir = osp.join(data_root, 'annotations', split)
        os.makedirs(img_dir, exist_ok=True)
        os.makedirs(ann_dir, exist_ok=True)
        for i in range(1, int(count) + 1):
            img, label = _sample(h, w, colours, rng)
            stem = f'ADE_{tag}_{i:08d}'
            img_file = osp.join(img_dir, stem + '.jpg')
            ann_file = osp.join(ann_dir, stem + '.png')
            write_image('make_ade20k', img_file, img, jpeg_quality=95)
            write_image('make_ade20k', ann_file, label)
    return data_root
