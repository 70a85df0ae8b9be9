"""Timing a config's training data pipeline from JPEG files on.

Three measurements, all on files written by
:func:`~mmequi.utils.synthetic.write_photo_jpegs` (photo-like JPEGs of
ImageNet-like sizes):

* :func:`pipeline_throughput` -- images/s of the whole pipeline (decode
  included) in this process on one thread, i.e. what one loader worker can
  do at best (``benchmark_pretrain.py --data``);
* :func:`profile_pipeline` -- ms per image of every transform of the
  pipeline and, inside :class:`~mmequi.datasets.transforms.iBOTMultiCrop`,
  of every op (crop-box draw, resize, layout conversions, each colour op);
* :func:`loader_throughput` -- images/s through a real
  ``torch.utils.data.DataLoader`` with ``num_workers`` processes, the
  config's collate function included.

Used by ``tools/analysis_tools/benchmark_data.py`` and
``tools/analysis_tools/benchmark_pretrain.py``.
"""
import contextlib
import copy
import random
import tempfile
import time
from collections import defaultdict
from typing import Callable, Dict, Iterator, List, Sequence

import cv2
import numpy as np
import torch
from mmengine.config import Config

from .synthetic import train_pipeline, write_photo_jpegs

__all__ = ['build_pipeline', 'single_thread', 'pipeline_throughput',
           'profile_pipeline', 'loader_throughput', 'MULTI_CROP_OPS']

#: functions of :mod:`mmequi.datasets.transforms.multi_crop` that
#: :func:`profile_pipeline` times one by one (none calls another)
MULTI_CROP_OPS = ('random_resized_crop_params', 'resize_box',
                  'planes_to_hwc', 'hwc_to_planes', 'adjust_brightness',
                  'adjust_contrast', 'adjust_saturation', 'adjust_hue',
                  'rgb_to_grayscale', 'gaussian_blur', 'solarize')


def build_pipeline(cfg: Config) -> Callable[[dict], dict]:
    """The config's training pipeline (:func:`train_pipeline`), built."""
    from mmcv.transforms import Compose
    from mmpretrain.registry import TRANSFORMS
    return Compose([TRANSFORMS.build(t) for t in train_pipeline(cfg)])


@contextlib.contextmanager
def single_thread() -> Iterator[None]:
    """One torch thread and no OpenCV thread pool (a loader worker's
    setting: mmengine's ``opencv_num_threads=0``, torch's 1 per worker)."""
    torch_threads, cv2_threads = torch.get_num_threads(), \
        cv2.getNumThreads()
    torch.set_num_threads(1)
    cv2.setNumThreads(0)
    try:
        yield
    finally:
        torch.set_num_threads(torch_threads)
        cv2.setNumThreads(cv2_threads)


def pipeline_throughput(cfg: Config, num_images: int,
                        num_files: int = 8) -> dict:
    """Images/s of the full pipeline (JPEG decode included) on 1 thread,
    over ``num_images`` runs on ``num_files`` cycled files.

    Returns ``dict(data_images_per_s_per_worker=..., data_ms_per_image=...)``.
    """
    pipeline = build_pipeline(cfg)
    with tempfile.TemporaryDirectory() as tmp, single_thread():
        paths = write_photo_jpegs(tmp, num_files)
        pipeline(dict(img_path=paths[0]))  # warm-up
        t0 = time.perf_counter()
        for i in range(num_images):
            pipeline(dict(img_path=paths[i % len(paths)]))
        dt = time.perf_counter() - t0
    return dict(data_images_per_s_per_worker=num_images / dt,
                data_ms_per_image=1000 * dt / num_images)


@contextlib.contextmanager
def _timed_functions(module, names: Sequence[str],
                     total: Dict[str, float]) -> Iterator[None]:
    """Wrap ``module.<name>`` for each name that exists so that its calls
    add their wall time to ``total[name]``; restored on exit."""
    saved = {n: getattr(module, n) for n in names if hasattr(module, n)}

    def timed(name, fn):
        def call(*args, **kwargs):
            t = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                total[name] += time.perf_counter() - t
        return call

    for name, fn in saved.items():
        setattr(module, name, timed(name, fn))
    try:
        yield
    finally:
        for name, fn in saved.items():
            setattr(module, name, fn)


def profile_pipeline(cfg: Config, paths: Sequence[str],
                     num_images: int) -> dict:
    """ms per image of each transform of the training pipeline (on 1
    thread, ``num_images`` runs over ``paths``), and of each op of
    :data:`MULTI_CROP_OPS` inside the multi-crop.

    Returns ``dict(transforms_ms={'0:LoadImageFromFile': ..., ...},
    ops_ms={'resize_box': ..., ..., 'other (iBOTMultiCrop)': ...},
    total_ms=...)``; the transform keys are ``'<index>:<type>'`` in
    pipeline order; ``ops_ms`` is empty without an ``iBOTMultiCrop``, and
    its ``other`` entry is the multi-crop's time outside the listed ops
    (flips, random draws, Python glue, the timers' own ~1 us per call).
    """
    from mmequi.datasets.transforms import iBOTMultiCrop
    from mmequi.datasets.transforms import multi_crop as mc
    pipeline = build_pipeline(cfg)
    steps = list(pipeline.transforms)
    names = [f'{i}:{type(t).__name__}' for i, t in enumerate(steps)]
    per_step: Dict[str, float] = defaultdict(float)
    ops: Dict[str, float] = defaultdict(float)
    crop_steps = [n for n, t in zip(names, steps)
                  if isinstance(t, iBOTMultiCrop)]
    with single_thread():
        pipeline(dict(img_path=paths[0]))  # warm-up
        with _timed_functions(mc, MULTI_CROP_OPS, ops):
            for i in range(num_images):
                results = dict(img_path=paths[i % len(paths)])
                for name, step in zip(names, steps):
                    t = time.perf_counter()
                    results = step(results)
                    per_step[name] += time.perf_counter() - t
                    if results is None:
                        raise RuntimeError(f'pipeline step {name} returned '
                                           f'None for {paths[i % len(paths)]}')
    scale = 1000.0 / num_images
    ops_ms = {k: v * scale for k, v in ops.items()}
    if crop_steps:
        crop_ms = sum(per_step[n] for n in crop_steps) * scale
        ops_ms[f'other ({", ".join(crop_steps)})'] = \
            crop_ms - sum(ops_ms.values())
    transforms_ms = {n: per_step[n] * scale for n in names}
    return dict(transforms_ms=transforms_ms, ops_ms=ops_ms,
                total_ms=sum(transforms_ms.values()))


class _FilesDataset(torch.utils.data.Dataset):
    """``num_images`` samples cycling over ``paths``, each run through the
    pipeline built from ``pipeline_cfg`` (built in the worker that uses
    it)."""

    def __init__(self, paths: Sequence[str], num_images: int,
                 pipeline_cfg: List[dict]) -> None:
        self.paths = list(paths)
        self.num_images = num_images
        self.pipeline_cfg = copy.deepcopy(pipeline_cfg)
        self._pipeline = None

    def __len__(self) -> int:
        return self.num_images

    def __getitem__(self, idx: int) -> dict:
        if self._pipeline is None:
            from mmcv.transforms import Compose
            from mmpretrain.registry import TRANSFORMS
            self._pipeline = Compose([TRANSFORMS.build(t)
                                      for t in self.pipeline_cfg])
        path = self.paths[idx % len(self.paths)]
        return self._pipeline(dict(img_path=path, sample_idx=idx))


def _worker_init(worker_id: int) -> None:
    """Distinct numpy / random streams per worker (torch gives each worker
    its own seed) and OpenCV without its thread pool, as mmengine's
    runner sets it."""
    seed = torch.initial_seed() % 2**32
    np.random.seed(seed)
    random.seed(seed)
    cv2.setNumThreads(0)


def _collate_fn(cfg: Config) -> Callable:
    """The function ``cfg.train_dataloader.collate_fn`` names (mmengine's
    ``pseudo_collate`` when it names none, as the Runner does)."""
    from mmengine.registry import FUNCTIONS
    spec = cfg.train_dataloader.get('collate_fn',
                                    dict(type='pseudo_collate'))
    fn = FUNCTIONS.get(spec['type'])
    if fn is None:
        raise KeyError(f'train_dataloader.collate_fn type {spec["type"]!r} '
                       'is not in mmengine\'s FUNCTIONS registry')
    return fn


def loader_throughput(cfg: Config, paths: Sequence[str], num_images: int,
                      num_workers: int, batch_size: int) -> dict:
    """Run ``num_images`` samples through a ``DataLoader`` with
    ``num_workers`` worker processes (0: in this process, on 1 thread) and
    the config's collate function.

    Returns ``dict(workers, images, batch_size, wall_s, images_per_s,
    steady_images_per_s)``: ``images_per_s`` over the whole run (worker
    start-up included), ``steady_images_per_s`` from the first batch's
    arrival to the last (None with a single batch).
    """
    from mmengine.dataset import pseudo_collate  # noqa: F401 (registers)
    dataset = _FilesDataset(paths, num_images, train_pipeline(cfg))
    loader = torch.utils.data.DataLoader(
        dataset, batch_size=batch_size, num_workers=num_workers,
        collate_fn=_collate_fn(cfg), shuffle=False, drop_last=False,
        worker_init_fn=_worker_init if num_workers else None)
    seen, first = 0, None
    with single_thread():
        t0 = time.perf_counter()
        for batch in loader:
            n = len(batch['data_samples']) if isinstance(batch, dict) and \
                'data_samples' in batch else len(batch)
            if first is None:
                first, first_n = time.perf_counter(), n
            seen += n
        wall = time.perf_counter() - t0
        steady_s = time.perf_counter() - first
    if seen != num_images:
        raise RuntimeError(f'the loader gave {seen} images, expected '
                           f'{num_images}')
    steady = (seen - first_n) / steady_s if seen > first_n and steady_s > 0 \
        else None
    return dict(workers=num_workers, images=seen, batch_size=batch_size,
                wall_s=wall, images_per_s=seen / wall,
                steady_images_per_s=steady)
