"""A training batch with exactly the shapes of a config's pipeline.

The config's own training pipeline (minus file loading) runs on random
images and the results are collated as the dataloader would, so crops,
masks and recorded parameters are real. Used by
``tools/analysis_tools/benchmark_pretrain.py`` and the config tests.
"""
import copy
from typing import List

import numpy as np
from mmengine.config import Config
from mmengine.dataset import default_collate


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
    random RGB images of ``image_shape`` (H, W)."""
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
    return default_collate(samples)
