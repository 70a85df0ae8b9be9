"""Transforms for samples made of several images (views) of one object.

Datasets such as :class:`~mmequi.datasets.ThreeDIEBench` (SIE, Garrido et
al., ICML 2023) give ``results['img_path']`` as a list of files, one per
view. :class:`LoadViews` loads them into a list ``results['img']``;
:class:`ApplyToViews` runs an ordinary single-image pipeline on each view.
mmpretrain's ``PackInputs`` packs a list ``img`` into a list of (C, H, W)
tensors and ``mmengine.dataset.default_collate`` turns a batch of those into
a list of V batched (B, C, H, W) tensors, one per view.
"""
import copy
from typing import Callable, Dict, List, Optional, Sequence, Union

import mmcv
import numpy as np
from mmcv.transforms import BaseTransform, Compose
from mmengine import fileio
from mmpretrain.registry import TRANSFORMS

__all__ = ['LoadViews', 'ApplyToViews']


@TRANSFORMS.register_module()
class LoadViews(BaseTransform):
    """Load every image of ``results['img_path']`` (mmcv's
    ``LoadImageFromFile`` semantics, per file).

    **Required keys:** ``img_path`` -- a list of paths (a single ``str`` is
    treated as a list of one).

    **Modified keys:** ``img`` -- list of (H, W, 3) uint8 **BGR** arrays (as
    ``LoadImageFromFile``; float32 with ``to_float32``, (H, W) with
    ``color_type='grayscale'``), one per path, in order; ``img_shape`` and
    ``ori_shape`` -- ``(H, W)`` of the first view.

    A file that is missing or cannot be decoded raises an error naming it
    (there is no ``ignore_empty``: nothing is skipped).

    Args:
        to_float32: convert each image to float32. Defaults to False.
        color_type: ``flag`` of :func:`mmcv.imfrombytes`.
            Defaults to ``'color'``.
        imdecode_backend: ``backend`` of :func:`mmcv.imfrombytes`.
            Defaults to ``'cv2'``.
        backend_args: mmengine file-backend arguments. Defaults to None.
    """

    def __init__(self,
                 to_float32: bool = False,
                 color_type: str = 'color',
                 imdecode_backend: str = 'cv2',
                 *,
                 backend_args: Optional[dict] = None) -> None:
        self.to_float32 = bool(to_float32)
        self.color_type = color_type
        self.imdecode_backend = imdecode_backend
        self.backend_args = None if backend_args is None else dict(
            backend_args)

    def _load(self, path: str, view: int) -> np.ndarray:
        try:
            img_bytes = fileio.get(path, backend_args=self.backend_args)
        except FileNotFoundError as e:
            raise FileNotFoundError(
                f'LoadViews: image file of view {view} not found: {path}'
            ) from e
        except Exception as e:
            raise OSError(f'LoadViews: cannot read image file of view {view}'
                          f' {path}: {type(e).__name__}: {e}') from e
        try:
            img = mmcv.imfrombytes(img_bytes, flag=self.color_type,
                                   backend=self.imdecode_backend)
        except Exception as e:
            raise ValueError(f'LoadViews: cannot decode image file of view '
                             f'{view} {path}: {type(e).__name__}: {e}'
                             ) from e
        if img is None:
            raise ValueError(f'LoadViews: cannot decode image file of view '
                             f'{view} {path} (empty or not an image)')
        return img.astype(np.float32) if self.to_float32 else img

    def transform(self, results: Dict) -> Dict:
        """Set ``img`` (list of arrays), ``img_shape``, ``ori_shape``."""
        if 'img_path' not in results:
            raise KeyError('LoadViews needs results["img_path"] (a list of '
                           'image paths)')
        paths = results['img_path']
        if isinstance(paths, str):
            paths = [paths]
        if (not isinstance(paths, Sequence) or not paths
                or not all(isinstance(p, str) for p in paths)):
            raise TypeError('LoadViews expects results["img_path"] to be a '
                            f'non-empty list of str, got {paths!r}')
        imgs = [self._load(p, v) for v, p in enumerate(paths)]
        results['img'] = imgs
        results['img_shape'] = imgs[0].shape[:2]
        results['ori_shape'] = imgs[0].shape[:2]
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(to_float32={self.to_float32}, '
                f'color_type={self.color_type!r}, '
                f'imdecode_backend={self.imdecode_backend!r}, '
                f'backend_args={self.backend_args!r})')


@TRANSFORMS.register_module()
class ApplyToViews(BaseTransform):
    """Run a sub-pipeline on each image of the list ``results['img']``.

    View ``v`` is processed as a sample of its own: a shallow copy of
    ``results`` with ``img`` = the v-th image and ``img_shape`` = its (H, W)
    (every view gets its own random draws, in view order). The output is
    the results of the **first** view (so ``img_shape``, ``scale_factor``,
    ... describe view 0) with ``img`` = the list of all processed views.

    The sub-pipeline must not drop a view (return None): that raises
    RuntimeError, since the views of a sample belong together. Keys other
    than ``img`` that a sub-pipeline writes for views 1.. are discarded.

    Args:
        transforms: transform configs (built with mmpretrain's
            ``TRANSFORMS``) or callables, e.g.
            ``[dict(type='Resize', scale=(224, 224))]``.
    """

    def __init__(self, transforms: List[Union[dict, Callable]]) -> None:
        if not isinstance(transforms, Sequence) or isinstance(
                transforms, (str, dict)):
            raise TypeError('ApplyToViews expects a list of transforms, got '
                            f'{transforms!r}')
        self.transforms = Compose(
            [TRANSFORMS.build(t) if isinstance(t, dict) else t
             for t in transforms])

    def transform(self, results: Dict) -> Dict:
        """Replace ``results['img']`` by the list of processed views."""
        imgs = results.get('img')
        if not isinstance(imgs, (list, tuple)) or not imgs:
            raise TypeError('ApplyToViews expects results["img"] to be a '
                            'non-empty list of images (see LoadViews), got '
                            f'{type(imgs).__name__}')
        outs = []
        for v, img in enumerate(imgs):
            view = copy.copy(results)
            view['img'] = img
            if hasattr(img, 'shape'):
                view['img_shape'] = tuple(img.shape[:2])
            out = self.transforms(view)
            if out is None:
                raise RuntimeError(
                    f'ApplyToViews: the sub-pipeline dropped view {v} '
                    f'(returned None) of sample {results.get("img_path")!r}'
                    f'; every view must be kept')
            outs.append(out)
        first = outs[0]
        first['img'] = [out['img'] for out in outs]
        return first

    def __repr__(self) -> str:
        inner = ', '.join(repr(t) for t in self.transforms.transforms)
        return f'{self.__class__.__name__}(transforms=[{inner}])'
