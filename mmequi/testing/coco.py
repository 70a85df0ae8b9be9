"""A tiny generated COCO fixture in the real on-disk layout.

Lin et al., "Microsoft COCO: Common Objects in Context", ECCV 2014; the
2017 release layout that mmdet's ``CocoDataset`` / ``CocoMetric`` and
mmpose's ``CocoDataset`` read::

    ROOT/annotations/instances_train2017.json
    ROOT/annotations/instances_val2017.json
    ROOT/annotations/person_keypoints_{train,val}2017.json   (keypoints=True)
    ROOT/train2017/000000000001.jpg ...                       RGB JPEG
    ROOT/val2017/000000100001.jpg ...

Every image shows 1-3 filled polygons on a noisy background; each polygon
is one instance (its ``segmentation`` polygon, ``bbox`` = the polygon's
bounding box, ``area`` = its shoelace area, ``iscrowd`` 0). A category
always has the same colour (plus noise), so the task is learnable. Objects
may overlap; each annotation is its full polygon (later ones are drawn on
top).

Categories: ``instances_*.json`` lists all 80 COCO categories with their
real ids and names (ids are not contiguous: 1..90 with gaps). mmdet's
``CocoDataset`` keeps the categories whose *name* is in its METAINFO
``classes`` and maps them, in file order, to labels 0..79; ``CocoMetric``
maps a predicted label ``l`` back to ``cat_ids[l]`` -- so listing all 80
keeps labels and ids exactly as on real COCO, and an untrained 80-class
model's predictions of absent classes stay valid. Objects are drawn from
the first ``num_classes`` categories (person, bicycle, car, ...).

With ``keypoints=True`` the first object of every image is a person drawn
as a silhouette around 17 COCO keypoints (all inside the box, visibility
2), and ``person_keypoints_*.json`` holds the person annotations (same ids
as in ``instances_*.json``, as in the real files) with ``keypoints``,
``num_keypoints`` and the person category with keypoint names and the
COCO skeleton.
"""
import json
import os
import os.path as osp
from typing import Dict, List, Sequence, Tuple

import numpy as np
from PIL import Image, ImageDraw

#: the 80 COCO categories: (id, name, supercategory), in the files' order
COCO_CATEGORIES: Tuple[Tuple[int, str, str], ...] = (
    (1, 'person', 'person'), (2, 'bicycle', 'vehicle'),
    (3, 'car', 'vehicle'), (4, 'motorcycle', 'vehicle'),
    (5, 'airplane', 'vehicle'), (6, 'bus', 'vehicle'),
    (7, 'train', 'vehicle'), (8, 'truck', 'vehicle'),
    (9, 'boat', 'vehicle'), (10, 'traffic light', 'outdoor'),
    (11, 'fire hydrant', 'outdoor'), (13, 'stop sign', 'outdoor'),
    (14, 'parking meter', 'outdoor'), (15, 'bench', 'outdoor'),
    (16, 'bird', 'animal'), (17, 'cat', 'animal'), (18, 'dog', 'animal'),
    (19, 'horse', 'animal'), (20, 'sheep', 'animal'), (21, 'cow', 'animal'),
    (22, 'elephant', 'animal'), (23, 'bear', 'animal'),
    (24, 'zebra', 'animal'), (25, 'giraffe', 'animal'),
    (27, 'backpack', 'accessory'), (28, 'umbrella', 'accessory'),
    (31, 'handbag', 'accessory'), (32, 'tie', 'accessory'),
    (33, 'suitcase', 'accessory'), (34, 'frisbee', 'sports'),
    (35, 'skis', 'sports'), (36, 'snowboard', 'sports'),
    (37, 'sports ball', 'sports'), (38, 'kite', 'sports'),
    (39, 'baseball bat', 'sports'), (40, 'baseball glove', 'sports'),
    (41, 'skateboard', 'sports'), (42, 'surfboard', 'sports'),
    (43, 'tennis racket', 'sports'), (44, 'bottle', 'kitchen'),
    (46, 'wine glass', 'kitchen'), (47, 'cup', 'kitchen'),
    (48, 'fork', 'kitchen'), (49, 'knife', 'kitchen'),
    (50, 'spoon', 'kitchen'), (51, 'bowl', 'kitchen'),
    (52, 'banana', 'food'), (53, 'apple', 'food'),
    (54, 'sandwich', 'food'), (55, 'orange', 'food'),
    (56, 'broccoli', 'food'), (57, 'carrot', 'food'),
    (58, 'hot dog', 'food'), (59, 'pizza', 'food'), (60, 'donut', 'food'),
    (61, 'cake', 'food'), (62, 'chair', 'furniture'),
    (63, 'couch', 'furniture'), (64, 'potted plant', 'furniture'),
    (65, 'bed', 'furniture'), (67, 'dining table', 'furniture'),
    (70, 'toilet', 'furniture'), (72, 'tv', 'electronic'),
    (73, 'laptop', 'electronic'), (74, 'mouse', 'electronic'),
    (75, 'remote', 'electronic'), (76, 'keyboard', 'electronic'),
    (77, 'cell phone', 'electronic'), (78, 'microwave', 'appliance'),
    (79, 'oven', 'appliance'), (80, 'toaster', 'appliance'),
    (81, 'sink', 'appliance'), (82, 'refrigerator', 'appliance'),
    (84, 'book', 'indoor'), (85, 'clock', 'indoor'), (86, 'vase', 'indoor'),
    (87, 'scissors', 'indoor'), (88, 'teddy bear', 'indoor'),
    (89, 'hair drier', 'indoor'), (90, 'toothbrush', 'indoor'))

#: COCO's 17 person keypoints, in annotation order
COCO_KEYPOINTS: Tuple[str, ...] = (
    'nose', 'left_eye', 'right_eye', 'left_ear', 'right_ear',
    'left_shoulder', 'right_shoulder', 'left_elbow', 'right_elbow',
    'left_wrist', 'right_wrist', 'left_hip', 'right_hip', 'left_knee',
    'right_knee', 'left_ankle', 'right_ankle')

#: COCO's person skeleton (1-based keypoint indices)
COCO_SKELETON: Tuple[Tuple[int, int], ...] = (
    (16, 14), (14, 12), (17, 15), (15, 13), (12, 13), (6, 12), (7, 13),
    (6, 7), (6, 8), (7, 9), (8, 10), (9, 11), (2, 3), (1, 2), (1, 3),
    (2, 4), (3, 5), (4, 6), (5, 7))

# Keypoints of a person facing the camera, relative to its box (x, y in
# [0, 1]); the person's left is the image's right.
_KPT_TEMPLATE = np.array([
    (0.50, 0.08), (0.55, 0.06), (0.45, 0.06), (0.60, 0.08), (0.40, 0.08),
    (0.68, 0.24), (0.32, 0.24), (0.80, 0.40), (0.20, 0.40), (0.88, 0.54),
    (0.12, 0.54), (0.60, 0.56), (0.40, 0.56), (0.61, 0.76), (0.39, 0.76),
    (0.62, 0.95), (0.38, 0.95)])
# A silhouette around those keypoints (relative to the box), clockwise.
_PERSON_OUTLINE = np.array([
    (0.50, 0.00), (0.64, 0.03), (0.66, 0.15), (0.76, 0.20), (0.92, 0.36),
    (1.00, 0.56), (0.86, 0.58), (0.74, 0.43), (0.70, 0.56), (0.68, 1.00),
    (0.54, 1.00), (0.50, 0.66), (0.46, 1.00), (0.32, 1.00), (0.30, 0.56),
    (0.26, 0.43), (0.14, 0.58), (0.00, 0.56), (0.08, 0.36), (0.24, 0.20),
    (0.34, 0.15), (0.36, 0.03)])

_TRAIN_ID0 = 1  # image ids of train2017 start here, val2017 at _VAL_ID0
_VAL_ID0 = 100001


def _shoelace(poly: np.ndarray) -> float:
    x, y = poly[:, 0], poly[:, 1]
    return float(0.5 * abs(np.dot(x, np.roll(y, -1)) -
                           np.dot(y, np.roll(x, -1))))


def _star_polygon(rng: np.random.Generator, box: Tuple[float, float, float,
                                                       float]) -> np.ndarray:
    """A random star-shaped polygon (8-14 vertices) spanning ``box``."""
    x0, y0, w, h = box
    n = int(rng.integers(8, 15))
    ang = np.sort(rng.uniform(0, 2 * np.pi, n))
    rad = rng.uniform(0.6, 1.0, n)
    pts = np.stack([np.cos(ang) * rad, np.sin(ang) * rad], 1)
    lo, hi = pts.min(0), pts.max(0)
    pts = (pts - lo) / np.maximum(hi - lo, 1e-6)  # exactly spans [0, 1]
    return pts * [w, h] + [x0, y0]


def _random_box(rng: np.random.Generator, width: int, height: int,
                upright: bool = False) -> Tuple[float, float, float, float]:
    """(x0, y0, w, h) inside the image; ``upright``: a standing person."""
    if upright:
        h = float(rng.uniform(0.55, 0.85) * height)
        w = float(min(h * rng.uniform(0.45, 0.65), 0.6 * width))
    else:
        w = float(rng.uniform(0.25, 0.55) * width)
        h = float(rng.uniform(0.3, 0.7) * height)
    x0 = float(rng.uniform(0, width - w - 1))
    y0 = float(rng.uniform(0, height - h - 1))
    return x0, y0, w, h


def _categories() -> List[dict]:
    return [dict(id=i, name=n, supercategory=s) for i, n, s in COCO_CATEGORIES]


def _person_category() -> dict:
    return dict(id=1, name='person', supercategory='person',
                keypoints=list(COCO_KEYPOINTS),
                skeleton=[list(p) for p in COCO_SKELETON])


def _write_split(root: str, split: str, num_images: int, id0: int,
                 ann_id0: int, size: Tuple[int, int], num_classes: int,
                 keypoints: bool, rng: np.random.Generator,
                 colours: np.ndarray) -> Tuple[Dict, Dict, int]:
    height, width = size
    img_dir = osp.join(root, f'{split}2017')
    os.makedirs(img_dir, exist_ok=True)
    images, anns, person_anns = [], [], []
    ann_id = ann_id0
    for k in range(num_images):
        img_id = id0 + k
        file_name = f'{img_id:012d}.jpg'
        canvas = rng.normal(128, 12, (height, width, 3))
        image = Image.fromarray(np.clip(canvas, 0, 255).astype(np.uint8))
        draw = ImageDraw.Draw(image)
        for j in range(int(rng.integers(1, 4))):
            cls = 0 if (keypoints and j == 0) else int(
                rng.integers(0, num_classes))
            is_person_kpt = keypoints and cls == 0
            box = _random_box(rng, width, height, upright=is_person_kpt)
            if is_person_kpt:
                poly = _PERSON_OUTLINE * box[2:] + box[:2]
            else:
                poly = _star_polygon(rng, box)
            colour = tuple(int(c) for c in np.clip(
                colours[cls] + rng.normal(0, 8, 3), 0, 255))
            draw.polygon([tuple(p) for p in poly], fill=colour)
            x_min, y_min = poly.min(0)
            x_max, y_max = poly.max(0)
            ann = dict(
                id=ann_id, image_id=img_id,
                category_id=COCO_CATEGORIES[cls][0],
                segmentation=[[round(float(v), 2) for v in poly.ravel()]],
                area=round(_shoelace(poly), 2),
                bbox=[round(float(v), 2) for v in
                      (x_min, y_min, x_max - x_min, y_max - y_min)],
                iscrowd=0)
            anns.append(ann)
            if is_person_kpt:
                jitter = rng.uniform(-0.02, 0.02, _KPT_TEMPLATE.shape)
                kpts = (_KPT_TEMPLATE + jitter).clip(0, 1) * box[2:] + box[:2]
                for x, y in kpts:  # visible joints as small dark dots
                    draw.ellipse([x - 1, y - 1, x + 1, y + 1], fill=(20, 20, 20))
                flat: List[float] = []
                for x, y in kpts:
                    flat += [round(float(x), 2), round(float(y), 2), 2]
                person_anns.append(dict(ann, keypoints=flat,
                                        num_keypoints=len(kpts)))
            ann_id += 1
        image.save(osp.join(img_dir, file_name), quality=95)
        images.append(dict(id=img_id, file_name=file_name, height=height,
                           width=width, license=1,
                           date_captured='2017-01-01 00:00:00'))
    header = dict(
        info=dict(description='mmequi generated COCO-layout fixture',
                  version='1.0', year=2017),
        licenses=[dict(id=1, name='generated', url='')])
    instances = dict(header, images=images, annotations=anns,
                     categories=_categories())
    persons = dict(header, images=images, annotations=person_anns,
                   categories=[_person_category()])
    return instances, persons, ann_id


def make_coco(root: str, num_train: int = 4, num_val: int = 2,
              size: Sequence[int] = (96, 128), num_classes: int = 3,
              keypoints: bool = False, seed: int = 0) -> str:
    """Write a tiny COCO 2017-layout dataset under ``root`` (see module doc).

    Args:
        root: output folder (created); it becomes the ``data_root``.
        num_train, num_val: images in ``train2017/`` and ``val2017/``.
        size: image ``(height, width)`` in pixels.
        num_classes: objects are drawn from the first ``num_classes`` COCO
            categories (1..80; 1 = person only).
        keypoints: also write ``person_keypoints_{train,val}2017.json``
            (every image then has at least one person with 17 keypoints).
        seed: the fixture is a deterministic function of the arguments.

    Returns:
        ``root``.
    """
    if not 1 <= num_classes <= len(COCO_CATEGORIES):
        raise ValueError(f'make_coco: num_classes={num_classes} must be in '
                         f'1..{len(COCO_CATEGORIES)}')
    if num_train < 1 or num_val < 1:
        raise ValueError(f'make_coco: num_train={num_train} and num_val='
                         f'{num_val} must be >= 1')
    if len(size) != 2 or min(size) < 32:
        raise ValueError(f'make_coco: size={size} must be (height, width) '
                         'with both >= 32 px (mmdet drops smaller images)')
    size = (int(size[0]), int(size[1]))
    rng = np.random.default_rng(seed)
    colours = rng.uniform(20, 235, (len(COCO_CATEGORIES), 3))
    ann_dir = osp.join(root, 'annotations')
    os.makedirs(ann_dir, exist_ok=True)
    ann_id = 1
    for split, n, id0 in (('train', num_train, _TRAIN_ID0),
                          ('val', num_val, _VAL_ID0)):
        instances, persons, ann_id = _write_split(
            root, split, n, id0, ann_id, size, num_classes, keypoints, rng,
            colours)
        with open(osp.join(ann_dir, f'instances_{split}2017.json'), 'w') as f:
            json.dump(instances, f)
        if keypoints:
            with open(osp.join(ann_dir, f'person_keypoints_{split}2017.json'),
                      'w') as f:
                json.dump(persons, f)
    return root
