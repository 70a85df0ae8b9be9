"""Decode a dataset's images once and serve them from memory.

For the GPU data path (:class:`~mmequi.models.data_preprocessors.\
BatchMultiCropDataPreprocessor`), where the views are made on the device,
the loader only has to hand over decoded images; decoding a JPEG every
time would again cost more CPU than a small ViT's step takes on a GPU.
:class:`InMemoryDataset` decodes every image of the wrapped dataset once
(threads; OpenCV releases the GIL) into one uint8 ``(N, H, W, 3)`` RGB
array, which the loader workers share after ``fork`` (read-only, so the
pages are not copied). Each access runs this dataset's own ``pipeline`` on
``dict(img=<RGB array>, img_path=..., sample_idx=..., <other fields of the
data info>)``, e.g. ``iBOTBlockMaskGenerator(input_size=...)`` and
``PackInputs``.

Memory: N x H x W x 3 bytes (12,000 renders at 128 px: 590 MB) per
process that builds the dataset (each rank).
"""
import os.path as osp
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, List, Optional, Sequence, Union

import cv2
import numpy as np
from mmengine.dataset import Compose
from mmengine.logging import print_log
from mmpretrain.registry import DATASETS, TRANSFORMS

__all__ = ['InMemoryDataset']


@DATASETS.register_module()
class InMemoryDataset:
    """Args:
        dataset: the wrapped dataset (config or object) whose data infos
            carry one ``img_path`` (str) per sample, e.g. ``ThreeDIEBench``
            in ``mode='single'`` or ``CustomDataset``; its own pipeline is
            not used.
        pipeline: transforms run on every access (see the module
            docstring).
        size: resize every image to ``size`` x ``size`` (bilinear, after
            decoding) so that the array has one shape; None: all images
            must already have the same size (checked).
        threads: decoding threads (default: 8).
    """

    def __init__(self, dataset: Union[dict, object],
                 pipeline: Sequence[Union[dict, Callable]] = (),
                 size: Optional[int] = None, threads: int = 8) -> None:
        self.dataset = DATASETS.build(dataset) if isinstance(
            dataset, dict) else dataset
        self.pipeline = Compose([TRANSFORMS.build(t) if isinstance(t, dict)
                                 else t for t in pipeline])
        self.metainfo = getattr(self.dataset, 'metainfo', {})
        n = len(self.dataset)
        # ThreeDIEBench fills img_path (and reads the latents) per sample
        info_of = getattr(self.dataset, 'get_sample_info',
                          self.dataset.get_data_info)
        self.infos = [info_of(i) for i in range(n)]
        paths = []
        for i, info in enumerate(self.infos):
            path = info.get('img_path')
            if not isinstance(path, str):
                raise TypeError(
                    f'InMemoryDataset needs one image per sample; data info '
                    f'{i} has img_path={path!r} (use mode="single" for '
                    '3DIEBench)')
            paths.append(path)
        self.size = size
        first = self._decode(paths[0])
        self.images = np.empty((n, ) + first.shape, dtype=np.uint8)
        self.images[0] = first

        def load(i: int) -> None:
            img = self._decode(paths[i])
            if img.shape != first.shape:
                raise ValueError(
                    f'{paths[i]}: image of shape {img.shape}, the first is '
                    f'{first.shape}; set InMemoryDataset(size=...)')
            self.images[i] = img

        with ThreadPoolExecutor(max(1, int(threads))) as pool:
            list(pool.map(load, range(1, n)))
        print_log(f'InMemoryDataset: {n} images of {first.shape} decoded '
                  f'({self.images.nbytes / 2**20:.0f} MiB)',
                  logger='current')

    def _decode(self, path: str) -> np.ndarray:
        if not osp.isfile(path):
            raise FileNotFoundError(f'InMemoryDataset: no image file {path}')
        img = cv2.imread(path, cv2.IMREAD_COLOR)
        if img is None:
            raise ValueError(f'InMemoryDataset: cannot decode {path}')
        img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
        if self.size is not None and img.shape[:2] != (self.size, self.size):
            img = cv2.resize(img, (self.size, self.size),
                             interpolation=cv2.INTER_LINEAR)
        return img

    def __len__(self) -> int:
        return len(self.images)

    def get_data_info(self, idx: int) -> dict:
        return dict(self.infos[idx])

    def __getitem__(self, idx: int) -> dict:
        results = self.get_data_info(idx)
        results.update(img=self.images[idx], sample_idx=idx,
                       img_shape=self.images.shape[1:3],
                       ori_shape=self.images.shape[1:3])
        return self.pipeline(results)

    def full_init(self) -> None:
        """mmengine's lazy-init hook (the images are loaded at build)."""

    @property
    def paths(self) -> List[str]:
        return [info['img_path'] for info in self.infos]
