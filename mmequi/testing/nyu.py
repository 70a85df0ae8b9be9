"""A tiny generated NYU-Depth-v2 fixture in mmseg's on-disk layout.

Silberman, Hoiem, Kohli, Fergus, "Indoor Segmentation and Support Inference
from RGBD Images", ECCV 2012 (NYU-Depth v2), as mmseg 1.2.2's
``tools/dataset_converters/nyu.py`` lays out the BTS/VPD ``nyu.zip``
(Eigen split: the ``sync`` training frames and the 654 labelled test
images) and its ``NYUDataset`` reads it::

    ROOT/nyu/
        images/train/<scene>_<nnnn><x>_<fffff>.jpg     RGB JPEG (640x480 real)
        images/test/<scene>_<fffff>.jpg
        annotations/train/<same stem>.png              uint16, depth in mm
        annotations/test/<same stem>.png               (0 = no measurement)

The converter names a training pair ``kitchen_0028b/rgb_00045.jpg`` +
``kitchen_0028b/sync_depth_00045.png`` -> ``kitchen_0028b_00045.{jpg,png}``
and a test pair ``bathroom/rgb_00045.jpg`` -> ``bathroom_00045.*``; the scene
name before the first digit is ``NYUDataset``'s ``category_id``.
mmseg's ``LoadDepthAnnotation(depth_rescale_factor=1e-3)`` turns the PNG
values into metres (1000 -> 1.0 m).

Each depth map is a tilted plane (a floor/wall gradient) plus a few
rectangles at their own depths, and a few pixels without measurement (0);
the image intensity is a fixed decreasing function of depth (plus noise),
so depth is learnable from the pixels.
"""
import os
import os.path as osp
from typing import Tuple

import numpy as np

from ._checks import check_split_sizes, write_image

#: scene names of the fixture (categories of mmseg's NYUDataset)
SCENES = ('bathroom', 'bedroom', 'kitchen', 'living_room', 'office')
#: depth range of the generated maps, in millimetres (NYU: ~0.5 .. 10 m)
DEPTH_RANGE_MM = (500, 9500)


def _sample(h: int, w: int, rng: np.random.Generator
            ) -> Tuple[np.ndarray, np.ndarray]:
    """One (image (h, w, 3) uint8 BGR, depth (h, w) uint16 mm) pair."""
    lo, hi = DEPTH_RANGE_MM
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    near, far = sorted(rng.uniform(lo, hi, 2))
    tilt = rng.uniform(-0.3, 0.3)
    depth = far - (far - near) * (yy / max(h - 1, 1)) + tilt * (xx - w / 2)
    for _ in range(int(rng.integers(1, 4))):
        y0, x0 = int(rng.integers(0, h)), int(rng.integers(0, w))
        y1 = int(rng.integers(y0 + 1, h + 1))
        x1 = int(rng.integers(x0 + 1, w + 1))
        depth[y0:y1, x0:x1] = rng.uniform(lo, hi)
    depth = np.clip(np.rint(depth), lo, hi)
    holes = rng.random((h, w)) < 0.02  # missing Kinect measurements
    depth[holes] = 0
    depth = depth.astype(np.uint16)
    shade = 255.0 * (1.0 - (depth.astype(np.float64) - lo) / (hi - lo))
    shade[holes] = 0
    tint = rng.uniform(0.6, 1.0, 3)
    img = shade[..., None] * tint[None, None, :]
    img += rng.normal(0, 4, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8), depth


def make_nyu(root: str, num_train: int = 4, num_test: int = 2,
             size: Tuple[int, int] = (96, 128), seed: int = 0) -> str:
    """Write a tiny NYU-Depth-v2 in mmseg's layout under ``root``.

    Args:
        root: output folder (created); ``nyu`` goes in it.
        num_train: pairs in ``images/train`` + ``annotations/train`` (>= 1).
        num_test: pairs in ``images/test`` + ``annotations/test`` (>= 1).
        size: ``(height, width)`` of every image (real data: (480, 640)).
        seed: random seed (same arguments -> same files).

    Returns:
        ``ROOT/nyu``, the ``data_root`` of mmseg's ``NYUDataset``
        (``data_prefix=dict(img_path='images/train',
        depth_map_path='annotations/train')``).

    Raises:
        ValueError: a count below 1 or a non-positive size.
        OSError: a file could not be written.
    """
    h, w = check_split_sizes(
        'make_nyu', dict(num_train=num_train, num_test=num_test), size)
    rng = np.random.default_rng(seed)
    data_root = osp.join(root, 'nyu')
    for split, count in (('train', num_train), ('test', num_test)):
        img_dir = osp.join(data_root, 'images', split)
        ann_dir = osp.join(data_root, 'annotations', split)
        os.makedirs(img_dir, exist_ok=True)
        os.makedirs(ann_dir, exist_ok=True)
        for i in range(int(count)):
            scene = SCENES[i % len(SCENES)]
            # train: <scene>_<4-digit recording><letter>_<frame>; test:
            # <scene>_<frame> (the converter's names)
            stem = (f'{scene}_{i + 1:04d}a_{i:05d}' if split == 'train'
                    else f'{scene}_{i:05d}')
            img, depth = _sample(h, w, rng)
            img_file = osp.join(img_dir, stem + '.jpg')
            ann_file = osp.join(ann_dir, stem + '.png')
            write_image('make_nyu', img_file, img, jpeg_quality=95)
            write_image('make_nyu', ann_file, depth)
    return data_root
