"""A tiny generated MPII Human Pose fixture in mmpose's on-disk format.

Andriluka et al., "2D Human Pose Estimation: New Benchmark and State of the
Art Analysis", CVPR 2014; the layout is the one mmpose's ``MpiiDataset``
reads (its data preparation converts the official ``.mat`` release)::

    ROOT/images/000000001.jpg ...         RGB JPEG, 9-digit numeric names
    ROOT/annotations/mpii_train.json      list of persons (below)
    ROOT/annotations/mpii_val.json
    ROOT/annotations/mpii_gt_val.mat      ground truth of the val persons

A person record is ``{'image': '000000001.jpg', 'center': [x, y],
'scale': s, 'joints': [[x, y] * 16], 'joints_vis': [0/1 * 16]}`` in MATLAB
coordinates (1-based pixels, as the official annotations; ``MpiiDataset``
subtracts 1 from the centre and ``MpiiPCKAccuracy`` adds 1 to predictions),
``scale`` = box side / 200 px. Invisible joints are ``[-1, -1]`` with
``joints_vis`` 0. ``mpii_gt_val.mat`` holds, for the val persons in the
order of ``mpii_val.json``: ``headboxes_src`` (2, 2, N) (head box corners
``[[x1, y1], [x2, y2]]``, used by ``MpiiDataset(headbox_file=...)`` for the
PCKh head size 0.6 x its diagonal), ``pos_gt_src`` (16, 2, N), ``jnt_missing``
(16, N) and ``dataset_joints`` (the 16 joint names).

Each image shows one stick figure: limbs and joints are drawn at the
annotated positions (colour per joint), so the labels are learnable from the
pixels.
"""
import json
import os
import os.path as osp
from typing import List, Tuple

import cv2
import numpy as np
from scipy.io import savemat

from ._checks import check_split_sizes, write_image

#: the 16 MPII joints in annotation order (mmpose's MpiiDataset docstring)
JOINTS: Tuple[str, ...] = (
    'right_ankle', 'right_knee', 'right_hip', 'left_hip', 'left_knee',
    'left_ankle', 'pelvis', 'thorax', 'upper_neck', 'head_top',
    'right_wrist', 'right_elbow', 'right_shoulder', 'left_shoulder',
    'left_elbow', 'left_wrist')
#: names in the ``dataset_joints`` entry of the official mpii_gt_val.mat
MAT_NAMES: Tuple[str, ...] = (
    'rank', 'rkne', 'rhip', 'lhip', 'lkne', 'lank', 'pelv', 'thor', 'neck',
    'head', 'rwri', 'relb', 'rsho', 'lsho', 'lelb', 'lwri')
#: the person's right side on the image's left (a figure facing the
#: camera); x in [-0.5, 0.5] of the height, y in [0, 1] from the head top
TEMPLATE = np.array([
    [-0.12, 1.00], [-0.12, 0.76], [-0.10, 0.52], [0.10, 0.52],
    [0.12, 0.76], [0.12, 1.00], [0.00, 0.52], [0.00, 0.22],
    [0.00, 0.17], [0.00, 0.00], [-0.30, 0.52], [-0.25, 0.37],
    [-0.17, 0.22], [0.17, 0.22], [0.25, 0.37], [0.30, 0.52]], np.float64)
LIMBS: Tuple[Tuple[int, int], ...] = (
    (0, 1), (1, 2), (2, 6), (3, 6), (3, 4), (4, 5), (6, 7), (7, 8), (8, 9),
    (7, 12), (12, 11), (11, 10), (7, 13), (13, 14), (14, 15))


def _person(h: int, w: int, rng: np.random.Generator
            ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """0-based joints (16, 2), visibility (16,) and head box (2, 2)."""
    height = rng.uniform(0.55, 0.8) * h
    top = rng.uniform(0.05 * h, h - height - 0.05 * h)
    cx = rng.uniform(0.35 * w, 0.65 * w)
    joints = TEMPLATE * height + np.array([cx, top])
    joints += rng.normal(0, 0.015 * height, joints.shape)
    joints = np.clip(joints, 0, [w - 1, h - 1])
    vis = (rng.random(len(JOINTS)) > 0.1).astype(np.int64)
    vis[[7, 8, 9]] = 1  # the head box needs the head
    head_w = 0.16 * height
    head = np.array([[joints[9, 0] - head_w / 2, joints[9, 1]],
                     [joints[9, 0] + head_w / 2, joints[8, 1]]])
    return joints, vis, head


def _draw(h: int, w: int, joints: np.ndarray, colours: np.ndarray,
          rng: np.random.Generator) -> np.ndarray:
    """(h, w, 3) uint8 BGR image of the stick figure."""
    img = np.empty((h, w, 3), np.uint8)
    img[:] = rng.integers(0, 80, 3)
    noise = rng.integers(-10, 11, img.shape)
    img = np.clip(img.astype(np.int16) + noise, 0, 255).astype(np.uint8)
    thick = max(1, h // 48)
    pts = [tuple(int(round(v)) for v in p) for p in joints]
    for a, b in LIMBS:
        cv2.line(img, pts[a], pts[b], (200, 200, 200), thick)
    for k, p in enumerate(pts):
        cv2.circle(img, p, thick + 1, tuple(int(c) for c in colours[k]), -1)
    return img


def make_mpii(root: str, num_train: int = 4, num_val: int = 2,
              size: Tuple[int, int] = (128, 128), seed: int = 0) -> str:
    """Write a tiny MPII in mmpose's layout under ``root``.

    Args:
        root: output folder (created); becomes the ``data_root``.
        num_train: persons (= images) in ``annotations/mpii_train.json``.
        num_val: persons (= images) in ``annotations/mpii_val.json`` and
            ``annotations/mpii_gt_val.mat``.
        size: ``(height, width)`` of every image, in pixels (>= 32).
        seed: random seed (same arguments -> same files).

    Returns:
        ``root``, the ``data_root`` of mmpose's ``MpiiDataset``
        (``ann_file='annotations/mpii_{train,val}.json'``,
        ``data_prefix=dict(img='images/')``,
        ``headbox_file=root + '/annotations/mpii_gt_val.mat'``).

    Raises:
        ValueError: a count below 1 or an image side below 32.
        FileExistsError: ``root`` already holds MPII annotations.
    """
    h, w = check_split_sizes(
        'make_mpii', dict(num_train=num_train, num_val=num_val), size,
        min_side=32)
    ann_dir = osp.join(root, 'annotations')
    img_dir = osp.join(root, 'images')
    if osp.exists(osp.join(ann_dir, 'mpii_train.json')):
        raise FileExistsError(f'make_mpii: {ann_dir} already holds MPII '
                              f'annotations; refusing to overwrite')
    os.makedirs(ann_dir, exist_ok=True)
    os.makedirs(img_dir, exist_ok=True)
    rng = np.random.default_rng(seed)
    colours = rng.integers(64, 256, (len(JOINTS), 3))
    image_id = 0
    heads: List[np.ndarray] = []
    gts: List[np.ndarray] = []
    missing: List[np.ndarray] = []
    for split, count in (('train', int(num_train)), ('val', int(num_val))):
        records = []
        for _ in range(count):
            image_id += 1
            name = f'{image_id:09d}.jpg'
            joints, vis, head = _person(h, w, rng)
            img = _draw(h, w, joints, colours, rng)
            path = osp.join(img_dir, name)
            write_image('make_mpii', path, img, jpeg_quality=95)
            box_min = joints.min(0)
            box_max = joints.max(0)
            mat_joints = np.where(vis[:, None] > 0, joints + 1.0, -1.0)
            records.append(dict(
                image=name,
                center=[float(v) for v in (box_min + box_max) / 2 + 1.0],
                scale=float((box_max - box_min).max() * 1.1 / 200.0),
                joints=mat_joints.round(3).tolist(),
                joints_vis=vis.tolist()))
            if split == 'val':
                heads.append(head + 1.0)
                gts.append(mat_joints)
                missing.append(1 - vis)
        with open(osp.join(ann_dir, f'mpii_{split}.json'), 'w') as f:
            json.dump(records, f)
    savemat(osp.join(ann_dir, 'mpii_gt_val.mat'), dict(
        dataset_joints=np.array(MAT_NAMES, dtype=object).reshape(1, -1),
        headboxes_src=np.stack(heads, -1),    # (2, 2, N)
        pos_gt_src=np.stack(gts, -1),         # (16, 2, N)
        jnt_missing=np.stack(missing, -1)))   # (16, N)
    return root
