"""Synthetic inputs for benchmarks and tests.

* :func:`synthetic_batch` -- a training batch with exactly the shapes of a
  config's pipeline: the config's own training pipeline (minus file
  loading) runs on random images and the results are collated as the
  dataloader would, so crops, masks and recorded parameters are real.
* :func:`write_photo_jpegs` -- JPEG files of ImageNet-like sizes whose
  content costs about what a photo costs to decode (smooth shapes plus
  texture at several scales), for timing a pipeline from the file on.

Used by ``tools/analysis_tools/benchmark_pretrain.py``,
``tools/analysis_tools/benchmark_data.py`` and the config tests.
"""
import copy
import os
import os.path as osp
from typing import Callable, List, Sequence, Tuple

import numpy as np
from mmengine.config import Config


def full_precision(optim_wrapper: dict) -> dict:
    """A copy of an ``optim_wrapper`` config in fp32: ``AmpOptimWrapper`` /
    ``SSLAmpOptimWrapper`` become ``OptimWrapper`` / ``SSLOptimWrapper``
    (``dtype`` and ``loss_scale`` dropped); other wrappers are unchanged.
    For CPU smoke runs of the bf16 configs: on a CPU without native
    bfloat16 (no AVX512-BF16/AMX) bf16 autocast is emulated and a ViT-S
    iBOT step takes ~20x longer than in fp32."""
    cfg = copy.deepcopy(optim_wrapper)
    if 'AmpOptimWrapper' in cfg.get('type', ''):
        cfg['type'] = cfg['type'].replace('AmpOptimWrapper', 'OptimWrapper')
        for key in ('dtype', 'loss_scale'):
            cfg.pop(key, None)
    return cfg


#: (width, height) of :func:`write_photo_jpegs`'s files, cycled: the
#: commonest ImageNet-1k training sizes (500 x 375 / 375 x 500 and
#: 500 x 333 are about half of the set; the mean image is ~400 x 350)
#: and a few larger ones.
IMAGENET_LIKE_SIZES: Tuple[Tuple[int, int], ...] = (
    (500, 375), (375, 500), (500, 333), (640, 480), (500, 400),
    (333, 500), (800, 600), (500, 375))


def photo_like_image(width: int, height: int,
                     rng: np.random.Generator) -> np.ndarray:
    """(height, width, 3) uint8 image with the statistics of a photo as
    far as JPEG cares: a smooth colour field (a 6 x 8 random grid, bicubic)
    plus detail at 1/16 and 1/4 of the size and a little pixel noise, so
    the file has the high-frequency content that makes decoding cost what
    it costs for a photo (a plain smooth image decodes ~2x faster)."""
    import cv2
    out = np.zeros((height, width, 3), np.float32)
    for cells, amp in ((8, 150.0), (width // 16, 50.0), (width // 4, 25.0)):
        ch = max(2, round(cells * height / width))
        grid = rng.uniform(-1, 1, (ch, max(2, cells), 3)).astype(np.float32)
        out += amp * cv2.resize(grid, (width, height),
                                interpolation=cv2.INTER_CUBIC)
    out += rng.normal(0, 6.0, out.shape).astype(np.float32)
    return np.clip(out + 128.0, 0, 255).astype(np.uint8)


def write_photo_jpegs(out_dir: str, num: int, seed: int = 0,
                      sizes: Sequence[Tuple[int, int]] = IMAGENET_LIKE_SIZES,
                      quality: int = 90) -> List[str]:
    """Write ``num`` JPEGs (:func:`photo_like_image`, ``sizes[i %
    len(sizes)]`` = (width, height), JPEG ``quality``) as
    ``out_dir/{i}.jpg`` and return their paths."""
    import cv2
    os.makedirs(out_dir, exist_ok=True)
    rng = np.random.default_rng(seed)
    paths = []
    for i in range(num):
        width, height = sizes[i % len(sizes)]
        path = osp.join(out_dir, f'{i}.jpg')
        if not cv2.imwrite(path, photo_like_image(width, height, rng),
                           [cv2.IMWRITE_JPEG_QUALITY, int(quality)]):
            raise OSError(f'could not write the JPEG {path}')
        paths.append(path)
    return paths


def train_pipeline(cfg: Config) -> List[dict]:
    """The training pipeline of ``cfg`` (dataset wrappers unwrapped)."""
    dataset = cfg.train_dataloader.dataset
    while 'pipeline' not in dataset and 'dataset' in dataset:
        dataset = dataset.dataset  # RepeatDataset, ConcatDataset, ...
    if 'pipeline' not in dataset:
        raise KeyError('train_dataloader.dataset has no pipeline')
    return copy.deepcopy(dataset.pipeline)


def synthetic_batch(cfg: Config, batch_size: int, seed: int = 0,
                    image_shape=(375, 500)) -> dict:
    """Collated ``dict(inputs=..., data_samples=...)`` for ``batch_size``
    random RGB images of ``image_shape`` (H, W), collated by the config's
    ``train_dataloader.collate_fn`` (default ``default_collate``; e.g.
    DINOv2's batch masks are drawn there)."""
    from mmcv.transforms import Compose
    from mmpretrain.registry import TRANSFORMS
    # file loading (LoadImageFromFile, LoadViews) is replaced by the images
    steps = [t for t in train_pipeline(cfg)
             if not str(t['type']).startswith('Load')]
    pipeline = Compose([TRANSFORMS.build(t) for t in steps])
    rng = np.random.default_rng(seed)
    samples = []
    for _ in range(batch_size):
        img = rng.integers(0, 256, (*image_shape, 3), dtype=np.uint8)
        samples.append(pipeline(dict(img=img, img_shape=img.shape[:2],
                                     ori_shape=img.shape[:2])))
    return train_collate(cfg)(samples)


def train_collate(cfg: Config) -> Callable[[list], dict]:
    """The collate function of ``cfg.train_dataloader`` as mmengine's
    Runner builds it (registered name + keyword arguments)."""
    import functools

    from mmengine.registry import FUNCTIONS
    collate_cfg = dict(cfg.train_dataloader.get(
        'collate_fn', dict(type='default_collate')))
    kind = collate_cfg.pop('type')
    fn = FUNCTIONS.get(kind) if isinstance(kind, str) else kind
    if fn is None:
        raise KeyError(f'train_dataloader.collate_fn type {kind!r} is not '
                       'registered in FUNCTIONS (is mmequi imported?)')
    return functools.partial(fn, **collate_cfg)
