"""The paper's "rot" augmentation: views that differ by a rotation only.

Reference: Wang et al., *Self-Supervised Learning Based on Transformed Image
Reconstruction for Equivariance-Coherent Feature Representation*, AAAI-26
(arXiv 2503.18753), Table 1 rows ``Ours(., rot, rot)``: the augmentation
"rot" is rotation only, "all" the usual pipeline (crops, flips, colour,
blur, ...). :class:`RandomRotationViews` is the "rot" counterpart of
:class:`~mmequi.datasets.transforms.iBOTMultiCrop`: it returns the same
keys, so the models, the data preprocessors and ``PackInputs`` take either.

Per view (2 global views of ``global_size``, ``num_local`` local views of
``local_size``):

1. the **whole image** is resized to ``size`` x ``size`` (antialiased
   bicubic, the resize kernel of :class:`iBOTMultiCrop`; deterministic, no
   crop, no flip -- ``crop_params`` is the full image for every view);
2. it is rotated about its centre by ``phi ~ U(angle_range)`` degrees, drawn
   independently per view: bilinear, pixels that come from outside the
   image are ``fill``.

The paper does not publish the range of its "rot" augmentation; the
default ``(-45, 45)`` is the range of its rotation g_θ (Table 2). The sign
convention and the rotation centre are those of
:class:`mmequi.param_transforms.Rotation` (positive ``phi`` turns the
content counter-clockwise as seen on the screen; centre
``((S - 1) / 2, (S - 1) / 2)``), so an augmentation angle and a g_θ angle
mean the same thing.
"""
from typing import Dict, List, Sequence

import cv2
import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmpretrain.registry import TRANSFORMS

from ._checks import check_interval, check_scalar, check_view_sizes
from .multi_crop import hwc_to_planes, planes_to_hwc, resize_box

__all__ = ['RandomRotationViews', 'rotate_image']


def rotate_image(img: np.ndarray, angle: float, fill: int = 0
                 ) -> np.ndarray:
    """Rotate an (H, W, C) uint8 image about its centre.

    Args:
        img: (H, W, C) uint8 array (C = 3).
        angle: degrees; positive turns the content counter-clockwise as
            seen on the screen (``y`` pointing down).
        fill: value of the pixels that map to outside the image.

    Returns:
        (H, W, C) uint8 array: bilinear ``cv2.warpAffine`` about
        ``((W - 1) / 2, (H - 1) / 2)``, constant border ``fill``.
    """
    height, width = img.shape[:2]
    centre = ((width - 1) / 2.0, (height - 1) / 2.0)
    matrix = cv2.getRotationMatrix2D(centre, float(angle), 1.0)
    return cv2.warpAffine(img, matrix, (width, height),
                          flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT,
                          borderValue=(fill, ) * img.shape[2])


@TRANSFORMS.register_module()
class RandomRotationViews(BaseTransform):
    """Rotation-only views: 2 global and ``num_local`` local views of the
    whole image, each rotated by its own random angle.

    The paper's "rot" augmentation (Table 1 rows ``Ours(., rot, rot)``); see
    the module docstring for the exact ops.

    **Required keys:** ``img`` -- (H, W, 3) uint8 **BGR** numpy array (as
    from ``LoadImageFromFile``); (H, W) or (H, W, 1) grayscale arrays are
    replicated to 3 channels.

    **Modified keys:** ``img`` -- list of ``2 + num_local`` uint8 **RGB**
    tensors, (3, global_size, global_size) first, then (3, local_size,
    local_size) (the model's data preprocessor must use ``to_rgb=False``).

    **Added keys:**

    - ``crop_params`` -- float32 (2 + num_local, 5): ``(0, 0, W, H, 0)`` per
      view (the whole image, never flipped), as :class:`iBOTMultiCrop`'s.
    - ``view_sizes`` -- tuple of the views' side lengths.
    - ``rotation_angles`` -- float32 (2 + num_local,): each view's angle in
      degrees.

    Randomness: numpy's global generator only (one ``uniform`` per view, in
    view order), so that ``EpochSeedHook`` controls it.

    Args:
        global_size: side of the global views (> 0). Defaults to 224.
        local_size: side of the local views (> 0). Defaults to 96.
        num_local: number of local views (>= 0). Defaults to 0.
        angle_range: (min, max) degrees within [-180, 180];
            ``phi ~ U(min, max)``. Defaults to (-45, 45).
        fill: grey level (0-255) outside the rotated image. Defaults to 0
            (black, as g_θ's zeros outside the image).
    """

    def __init__(self,
                 global_size: int = 224,
                 local_size: int = 96,
                 num_local: int = 0,
                 angle_range: Sequence[float] = (-45.0, 45.0),
                 fill: int = 0) -> None:
        self.global_size, self.local_size, self.num_local = \
            check_view_sizes(global_size, local_size, num_local)
        self.angle_range = check_interval('angle_range', angle_range,
                                          -180.0, 180.0)
        self.fill = check_scalar('fill', fill, 0, 255, integer=True)

    @property
    def num_views(self) -> int:
        """Number of output views (2 global + ``num_local``)."""
        return 2 + self.num_local

    @staticmethod
    def _source(img) -> np.ndarray:
        """(H, W, 3) uint8 BGR from a BGR or gray ``results['img']``."""
        if not isinstance(img, np.ndarray) or img.dtype != np.uint8:
            raise TypeError('RandomRotationViews expects results["img"] to '
                            'be a uint8 numpy array (H, W, 3) in BGR order, '
                            f'got {type(img).__name__}'
                            f'{getattr(img, "dtype", "")}')
        if img.ndim == 3 and img.shape[2] == 1:
            img = img[..., 0]
        if img.ndim == 2:
            img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
        if img.ndim != 3 or img.shape[2] != 3:
            raise ValueError('RandomRotationViews expects results["img"] '
                             'to be an (H, W, 3) BGR or (H, W) gray image, '
                             f'got shape {img.shape}')
        if img.shape[0] < 1 or img.shape[1] < 1:
            raise ValueError('RandomRotationViews: empty image of shape '
                             f'{img.shape}')
        return img

    def transform(self, results: Dict) -> Dict:
        """Replace ``results['img']`` by the list of rotated views; add
        ``crop_params``, ``view_sizes`` and ``rotation_angles``."""
        src = self._source(results['img'])
        height, width = src.shape[:2]
        sizes = [self.global_size] * 2 + [self.local_size] * self.num_local
        resized = {}  # one resize per distinct view size
        views: List[torch.Tensor] = []
        angles = np.empty(self.num_views, dtype=np.float32)
        for i, size in enumerate(sizes):
            if size not in resized:
                planes = resize_box(src, (0, 0, height, width), size)
                resized[size] = planes_to_hwc(planes, reverse=True)  # RGB
            angles[i] = np.random.uniform(*self.angle_range)
            views.append(hwc_to_planes(
                rotate_image(resized[size], angles[i], self.fill)))
        results['img'] = views
        results['crop_params'] = np.tile(
            np.array([0, 0, width, height, 0], dtype=np.float32),
            (self.num_views, 1))
        results['view_sizes'] = tuple(sizes)
        results['rotation_angles'] = angles
        return results

    def __repr__(self) -> str:
        fields = ('global_size', 'local_size', 'num_local', 'angle_range',
                  'fill')
        args = ', '.join(f'{f}={getattr(self, f)!r}' for f in fields)
        return f'{self.__class__.__name__}({args})'
