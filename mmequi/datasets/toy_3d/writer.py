"""Write the toy data set in 3DIEBench's on-disk layout, in parallel.

:func:`make_toy_3diebench` renders every object's views (one object per
job, in a process pool) as JPEGs plus float32 latents and writes the
train/val split files last.
"""
import hashlib
import math
import multiprocessing as mp
import os
import os.path as osp
import time
from typing import Dict, List, Optional, Tuple

import cv2
import numpy as np

from .meshes import make_mesh
from .rasteriser import render
from .scene import TOY_CLASSES, sample_latents

SYNSET_BASE = 90000000
JPEG_QUALITY = 95


def toy_synset(class_index: int) -> str:
    """8-digit synset id of ``TOY_CLASSES[class_index]``."""
    return f'{SYNSET_BASE + int(class_index):08d}'


def _object_id(seed: int, class_index: int, k: int) -> str:
    key = f'mmequi-toy3d/{seed}/{TOY_CLASSES[class_index]}/{k}'
    return hashlib.md5(key.encode()).hexdigest()


def _write_object(job: Tuple) -> int:
    """Render and write one object's views; returns the image count."""
    out, c, k, seed, views, size = job
    folder = osp.join(out, toy_synset(c), _object_id(seed, c, k))
    os.makedirs(folder)
    mesh = make_mesh(TOY_CLASSES[c], np.random.default_rng([seed, c, k, 0]))
    lats = sample_latents(np.random.default_rng([seed, c, k, 1]), views)
    for i, lat in enumerate(lats):
        rgb = render(mesh, lat.astype(np.float64), size)
        ok, buf = cv2.imencode('.jpg', cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR),
                               [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
        if not ok:
            raise RuntimeError(f'JPEG encoding failed for {folder} view {i}')
        with open(osp.join(folder, f'image_{i}.jpg'), 'wb') as fh:
            fh.write(buf.tobytes())
        np.save(osp.join(folder, f'latent_{i}.npy'), lat)
    return views


def _worker_init() -> None:
    # one thread per worker: the parallelism is across objects. The
    # renderer makes no BLAS or torch call; the variables cover libraries
    # loaded later. Thread pools the parent already started (torch's
    # OpenMP, OpenCV's) must not be touched in a forked child: resizing them
    # there hangs (seen with torch.set_num_threads after the parent had run
    # torch ops), so nothing is called on torch or cv2 here.
    for var in ('OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS'):
        os.environ[var] = '1'


def _check_int(name: str, value, lo: int, hi: Optional[int] = None) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) \
            or value < lo or (hi is not None and value > hi):
        rng = f'{lo}..{hi}' if hi is not None else f'>= {lo}'
        raise ValueError(f'{name}={value!r}: must be an integer in {rng}')
    return int(value)


def make_toy_3diebench(out: str,
                       classes: int = 10,
                       objects_per_class: int = 40,
                       views: int = 10,
                       size: int = 64,
                       seed: int = 0,
                       val_fraction: float = 0.2,
                       workers: Optional[int] = None,
                       progress: bool = False) -> Dict[str, float]:
    """Write a procedural data set in 3DIEBench's layout to ``out``.

    ``classes`` x ``objects_per_class`` objects (the first ``classes`` of
    :data:`TOY_CLASSES`), each rendered under ``views`` independent random
    latents.  The train/val split is by object: per class, a deterministic
    random ``round(val_fraction * objects_per_class)`` objects are held
    out for val.  Byte-identical output for a given seed, whatever
    ``workers`` is.  The split files are written last: a folder without
    them is an interrupted run.

    Args:
        out: new or empty folder (never overwritten).
        classes: 1..len(TOY_CLASSES).
        objects_per_class: >= 1 (3DIEBench: ~950 on average).
        views: latents per object, >= 1 (3DIEBench: 50).
        size: image side in px, 8..1024 (3DIEBench: 256).
        seed: >= 0.
        val_fraction: in [0, 1); must leave >= 1 train object per class
            and, when > 0, give >= 1 val object per class.
        workers: processes (``None``: the CPUs this process may use; 1:
            in-process, no pool).  Workers are forked where possible (they
            inherit the imported modules) and run single-threaded.
        progress: print progress lines to stdout.

    Returns:
        dict with ``classes``, ``train_objects``, ``val_objects``,
        ``train_images``, ``val_images``, ``images`` and ``seconds``.
    """
    t0 = time.time()
    classes = _check_int('classes', classes, 1, len(TOY_CLASSES))
    objects_per_class = _check_int('objects_per_class', objects_per_class, 1)
    views = _check_int('views', views, 1)
    size = _check_int('size', size, 8, 1024)
    seed = _check_int('seed', seed, 0)
    if workers is not None:
        workers = _check_int('workers', workers, 1)
    if not isinstance(val_fraction, (int, float, np.floating)) \
            or isinstance(val_fraction, bool) \
            or not 0.0 <= val_fraction < 1.0:
        raise ValueError(f'val_fraction={val_fraction!r}: must be a float '
                         'in [0, 1)')
    n_val = int(math.floor(val_fraction * objects_per_class + 0.5))
    if val_fraction > 0 and n_val == 0:
        raise ValueError(
            f'val_fraction={val_fraction} with objects_per_class='
            f'{objects_per_class} holds out 0 objects per class; raise '
            'either or pass val_fraction=0')
    if n_val >= objects_per_class:
        raise ValueError(
            f'val_fraction={val_fraction} with objects_per_class='
            f'{objects_per_class} leaves no train object per class')
    out = os.fspath(out)
    if osp.exists(out) and not osp.isdir(out):
        raise FileExistsError(f'{out} exists and is not a directory')
    if osp.isdir(out) and os.listdir(out):
        raise FileExistsError(f'{out} exists and is not empty; refusing to '
                              'write into it')
    os.makedirs(out, exist_ok=True)

    jobs = [(out, c, k, seed, views, size) for c in range(classes)
            for k in range(objects_per_class)]
    ids = {_object_id(seed, c, k) for _, c, k, *_ in jobs}
    if len(ids) != len(jobs):
        raise RuntimeError('object id collision; use another seed')
    if workers is None:
        workers = (len(os.sched_getaffinity(0))
                   if hasattr(os, 'sched_getaffinity') else os.cpu_count())
    nproc = min(workers or 1, len(jobs))
    step = max(1, len(jobs) // 10)

    def report(done: int) -> None:
        if progress and (done % step == 0 or done == len(jobs)):
            print(f'[toy_3diebench] {done}/{len(jobs)} objects, '
                  f'{done * views} images, {time.time() - t0:.1f} s',
                  flush=True)

    if nproc > 1:
        methods = mp.get_all_start_methods()
        ctx = mp.get_context('fork' if 'fork' in methods else 'spawn')
        with ctx.Pool(nproc, initializer=_worker_init) as pool:
            for done, _ in enumerate(pool.imap_unordered(
                    _write_object, jobs, chunksize=2), 1):
                report(done)
    else:
        for done, job in enumerate(jobs, 1):
            _write_object(job)
            report(done)

    split: Dict[str, List[Tuple[str, int]]] = {'train': [], 'val': []}
    for c in range(classes):
        perm = np.random.default_rng([seed, c, 2]).permutation(
            objects_per_class)
        held = set(perm[:n_val].tolist())
        for k in range(objects_per_class):
            path = f'/{toy_synset(c)}/{_object_id(seed, c, k)}/'
            split['val' if k in held else 'train'].append((path, c))
    for name, rows in split.items():
        np.save(osp.join(out, f'{name}_images.npy'),
                np.array([p for p, _ in rows], dtype=np.str_))
        np.save(osp.join(out, f'{name}_labels.npy'),
                np.array([c for _, c in rows], dtype=np.int64))
    return {'classes': classes,
            'train_objects': len(split['train']),
            'val_objects': len(split['val']),
            'train_images': len(split['train']) * views,
            'val_images': len(split['val']) * views,
            'images': len(jobs) * views,
            'seconds': round(time.time() - t0, 2)}
