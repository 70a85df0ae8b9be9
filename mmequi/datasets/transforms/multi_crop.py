"""iBOT multi-crop augmentation (2 global + N local views per image).

Reference: J. Zhou et al., *iBOT: Image BERT Pre-Training with Online
Tokenizer*, ICLR 2022 (``DataAugmentationiBOT`` in the official
``main_ibot.py``), which inherits the recipe of DINO (Caron et al., ICCV
2021). Per view the official code runs, in this order:

1. ``RandomResizedCrop`` (bicubic) to the view size,
2. horizontal flip (p=0.5),
3. colour jitter (p=0.8; brightness 0.4, contrast 0.4, saturation 0.2,
   hue 0.1, applied in a random order),
4. grayscale (p=0.2),
5. Gaussian blur (p=1.0 / 0.1 / 0.5 for global view 1 / global view 2 /
   local views, radius ~ U(0.1, 2.0)),
6. solarization (p=0.2, global view 2 only),

and then normalises. :class:`iBOTMultiCrop` reproduces steps 1-6 on uint8
tensors; normalisation is left to the model's data preprocessor.

Implementation notes
--------------------
* **Geometry.** Crop boxes follow torchvision's ``RandomResizedCrop``
  exactly (``scale`` is the area fraction, the aspect ratio is log-uniform in
  ``ratio``, 10 attempts, then a central crop clamped to ``ratio``), but the
  random numbers come from numpy's *global* generator so that
  ``EpochSeedHook`` / ``epoch_worker_init_fn`` control them. The box is then
  resized with torch's antialiased ``interpolate`` (``antialias=True``; the
  kernel of :func:`torchvision.transforms.v2.functional.resized_crop`,
  native uint8 on CPU, which matches PIL's resize of the cropped array to
  one grey level). A pixel of the
  view at ``(u, v)`` (pixel centres at ``+0.5``, ``align_corners=False``)
  is centred on the original image's point
  ``x = x0 + (u + 0.5) * w / S - 0.5`` (likewise for ``y``), with
  ``u -> S - 1 - u`` first when the view was flipped; the filter only reads
  pixels inside the box (its support is clipped and renormalised at the
  box border), so a view depends on ``img[y0:y0 + h, x0:x0 + w]`` alone.
* **Speed** (same pixels as resizing an RGB copy of the whole image with
  ``resized_crop``): the source is never converted as a whole -- each box
  is resized straight from the BGR array and the view's channel order is
  reversed when its planes are interleaved (``cv2.merge``) for the colour
  ops or, without them, with the flip in one ``torch.flip``; the view goes
  back to (3, S, S) with ``cv2.split`` (numpy's and torch's transposing
  copies cost ~20x more). uint8 colour ops with lookup tables were tried
  and measured slower than the float32 ones at view sizes (building the
  table and the conversions cost more than they save).
* **Colour ops** have the semantics of torchvision's tensor kernels on uint8
  (``ColorJitter`` factor ranges and random order, luma weights
  0.2989/0.587/0.114, truncation to uint8 after every op) but run as
  numpy/OpenCV float32 code on (H, W, 3) arrays holding uint8 values
  (2-12x faster per op than torchvision's kernels, hue and blur most; the
  whole default multi-crop runs ~3x faster on one thread). They agree with
  torchvision's outputs to within one grey level (exactly, apart from float
  rounding at truncation boundaries).
* **Blur kernel.** ``sigma ~ U(blur_sigma)`` is drawn for every blurred
  view, and the kernel has ``2 * ceil(3 * sigma) + 1`` taps (±3 sigma,
  3..13 taps for the default range) with reflect-101 borders, i.e.
  torchvision's ``gaussian_blur`` with that kernel size. The official code
  uses PIL's ``GaussianBlur(radius=sigma)`` (an extended box-blur
  approximation of the same Gaussian).
* No op consumes torch's random generator.
"""
import math
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from mmcv.transforms import BaseTransform
from mmpretrain.registry import TRANSFORMS

from ._checks import (check_interval, check_scalar, check_scalars,
                      check_view_sizes)
from .photometric import (adjust_brightness, adjust_contrast, adjust_hue,
                          adjust_saturation, blur_kernel_size, gaussian_blur,
                          rgb_to_grayscale, solarize)

__all__ = ['iBOTMultiCrop', 'random_resized_crop_params']

#: Names of the three crop kinds, in the order of the ``*_probs`` tuples.
CROP_KINDS: Tuple[str, str, str] = ('global1', 'global2', 'local')

_JITTER_OPS = ('brightness', 'contrast', 'saturation', 'hue')

#: ``interpolation`` argument -> ``torch.nn.functional.interpolate`` mode
_INTERPOLATIONS = {'bicubic': 'bicubic', 'bilinear': 'bilinear'}


# -- crop geometry ----------------------------------------------------------
def random_resized_crop_params(height: int, width: int,
                               scale: Sequence[float],
                               ratio: Sequence[float],
                               attempts: int = 10
                               ) -> Tuple[int, int, int, int]:
    """Draw a ``RandomResizedCrop`` box with numpy's global generator.

    Same algorithm as ``torchvision.transforms.RandomResizedCrop.get_params``
    (Szegedy et al., 2015): up to ``attempts`` tries of an area fraction
    ``~ U(scale)`` and an aspect ratio ``w / h`` log-uniform in ``ratio``;
    if none fits inside the image, the largest central crop whose aspect
    ratio is clamped to ``ratio``.

    Args:
        height, width: image size in pixels.
        scale: (min, max) fraction of the image area.
        ratio: (min, max) aspect ratio ``w / h``.
        attempts: number of random tries before the fallback.

    Returns:
        ``(top, left, h, w)`` in pixels; the box lies inside the image.
    """
    area = height * width
    log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
    for _ in range(attempts):
        target_area = area * np.random.uniform(scale[0], scale[1])
        aspect = math.exp(np.random.uniform(log_ratio[0], log_ratio[1]))
        w = int(round(math.sqrt(target_area * aspect)))
        h = int(round(math.sqrt(target_area / aspect)))
        if 0 < w <= width and 0 < h <= height:
            top = int(np.random.randint(0, height - h + 1))
            left = int(np.random.randint(0, width - w + 1))
            return top, left, h, w
    # Fallback: central crop.
    in_ratio = width / height
    if in_ratio < min(ratio):
        w = width
        h = int(round(w / min(ratio)))
    elif in_ratio > max(ratio):
        h = height
        w = int(round(h * max(ratio)))
    else:
        w, h = width, height
    return (height - h) // 2, (width - w) // 2, h, w


def resize_box(src: np.ndarray, box: Tuple[int, int, int, int], size: int,
               mode: str = 'bicubic') -> torch.Tensor:
    """``src[top:top + h, left:left + w]`` ((H, W, C) uint8 array, no copy)
    resized to ``size`` x ``size`` with torch's antialiased uint8 kernel:
    a contiguous (C, size, size) uint8 tensor in ``src``'s channel order
    (the pixels of torchvision's ``resized_crop(..., antialias=True)``)."""
    top, left, h, w = box
    crop = torch.from_numpy(src[top:top + h, left:left + w])
    return F.interpolate(crop.permute(2, 0, 1)[None], size=(size, size),
                         mode=mode, antialias=True)[0]


def planes_to_hwc(planes: torch.Tensor, reverse: bool) -> np.ndarray:
    """(3, S, S) uint8 planes -> contiguous (S, S, 3) array, the channel
    order reversed if ``reverse`` (BGR <-> RGB), in one ``cv2.merge``."""
    p = planes.numpy()
    return cv2.merge([p[2], p[1], p[0]] if reverse else [p[0], p[1], p[2]])


def hwc_to_planes(img: np.ndarray) -> torch.Tensor:
    """(S, S, 3) uint8 array -> contiguous (3, S, S) tensor (``cv2.split``
    into the planes of one new tensor)."""
    out = torch.empty((3, ) + img.shape[:2], dtype=torch.uint8)
    planes = out.numpy()
    written = cv2.split(img, [planes[0], planes[1], planes[2]])
    if written[0].ctypes.data != planes[0].ctypes.data:  # OpenCV copied
        planes[:] = np.stack(written)
    return out


@TRANSFORMS.register_module()
class iBOTMultiCrop(BaseTransform):
    """iBOT/DINO multi-crop: 2 global and ``num_local`` local views.

    Reference: Zhou et al., "iBOT: Image BERT Pre-Training with Online
    Tokenizer", ICLR 2022 (``DataAugmentationiBOT``); defaults are the ViT-S
    recipe (global scale (0.25, 1), 10 local crops of 96 px with scale
    (0.05, 0.25)). See the module docstring for the exact semantics of each
    op.

    **Required keys:** ``img`` -- (H, W, 3) uint8 **BGR** numpy array (as
    from ``LoadImageFromFile``); (H, W) or (H, W, 1) grayscale arrays are
    replicated to 3 channels. ``img`` may also be a **list of two** such
    source images (e.g. two renders of one object from
    :class:`~mmequi.datasets.LoadViews`, 3DIEBench pretraining as SIE,
    Garrido et al., ICML 2023): global view 1 is cropped from source 0,
    global view 2 from source 1 and local view ``j`` (0-based) from source
    ``j mod 2``; the sources may differ in size. Everything else is as for
    one image (the same random numbers in the same order per view, the same
    photometric ops); a list of one image behaves exactly like the image.

    **Modified keys:** ``img`` -- list of ``2 + num_local`` uint8 **RGB**
    tensors, (3, global_size, global_size) for the two global views first,
    then (3, local_size, local_size) for the local ones. ``PackInputs``
    keeps tensors unchanged and ``default_collate`` turns the list into one
    (B, 3, S, S) tensor per view. As the views are already RGB, the model's
    data preprocessor must use ``to_rgb=False`` (only mean/std
    normalisation).

    **Added keys:**

    - ``crop_params`` -- float32 array (2 + num_local, 5): ``(x0, y0, w, h,
      flipped)`` of every view's box in the original image's pixel
      coordinates (with two sources: in the pixel coordinates of the
      view's own source image). Resizing ``img[y0:y0 + h, x0:x0 + w]``
      (antialiased, ``interpolation``) to the view size and flipping it
      horizontally when ``flipped == 1`` gives the view before the
      photometric ops.
    - ``view_sizes`` -- tuple of the views' side lengths.
    - ``view_sources`` (only for two source images) -- tuple of the source
      index (0 or 1) of every view, ``(0, 1, 0, 1, ...)``.
    - ``aug_record`` (only when ``record_ops=True``) -- list with one dict
      per view describing the ops that fired (``kind``, ``flip``,
      ``jitter``, ``jitter_order``, ``brightness``, ``contrast``,
      ``saturation``, ``hue``, ``gray``, ``blur``, ``blur_sigma``,
      ``blur_kernel``, ``solarize``; only ``kind`` and ``flip`` when
      ``photometric=False``).

    Randomness comes from numpy's global generator (``np.random``) only, so
    that the per-epoch reseeding of ``EpochSeedHook`` controls it; torch's
    generator is never used. Per view, in order: the crop box (see
    :func:`random_resized_crop_params`), the flip, then (if
    ``photometric``) the jitter coin (+ order and factors), the grayscale
    coin, the blur coin (+ sigma) and the solarize coin.

    Example::

        train_pipeline = [
            dict(type='LoadImageFromFile'),
            dict(type='iBOTMultiCrop'),
            dict(type='iBOTBlockMaskGenerator'),
            dict(type='PackInputs', algorithm_keys=['crop_params']),
        ]
        data_preprocessor = dict(mean=[123.675, 116.28, 103.53],
                                 std=[58.395, 57.12, 57.375], to_rgb=False)

    Args:
        global_size: side of the global views. Defaults to 224.
        local_size: side of the local views. Defaults to 96.
        num_local: number of local views (>= 0). Defaults to 10.
        global_scale: area-fraction range of global crops.
            Defaults to (0.25, 1.0).
        local_scale: area-fraction range of local crops.
            Defaults to (0.05, 0.25).
        ratio: aspect-ratio (w / h) range of the crops, log-uniform.
            Defaults to (3/4, 4/3).
        interpolation: ``'bicubic'`` (default, as iBOT) or ``'bilinear'``;
            always antialiased.
        flip_prob: horizontal-flip probability per view. Defaults to 0.5.
        jitter_prob: probability of colour jitter per view. Defaults to 0.8.
        brightness, contrast, saturation: jitter strengths ``s``; the factor
            is drawn from ``U(max(0, 1 - s), 1 + s)`` (0 disables the op).
            Defaults to 0.4, 0.4, 0.2.
        hue: hue-jitter strength in [0, 0.5]; shift ``~ U(-hue, hue)``.
            Defaults to 0.1.
        gray_prob: probability of grayscale (3 channels kept).
            Defaults to 0.2.
        blur_probs: Gaussian-blur probability for (global view 1, global
            view 2, local views). Defaults to (1.0, 0.1, 0.5).
        blur_sigma: (min, max) of the blur sigma, drawn per blurred view.
            Defaults to (0.1, 2.0).
        solarize_probs: solarization probability for (global view 1,
            global view 2, local views). Defaults to (0.0, 0.2, 0.0).
        solarize_threshold: values ``>= threshold`` are inverted.
            Defaults to 128.
        photometric: if False only crops and flips are applied (and no
            random numbers are drawn for the colour ops); the ``_gpu-aug_``
            configs then apply them on the device
            (``BatchPhotometricDataPreprocessor``). Defaults to True.
        record_ops: add ``results['aug_record']``. Defaults to False.
    """

    def __init__(self,
                 global_size: int = 224,
                 local_size: int = 96,
                 num_local: int = 10,
                 global_scale: Sequence[float] = (0.25, 1.0),
                 local_scale: Sequence[float] = (0.05, 0.25),
                 ratio: Sequence[float] = (3. / 4., 4. / 3.),
                 interpolation: str = 'bicubic',
                 flip_prob: float = 0.5,
                 jitter_prob: float = 0.8,
                 brightness: float = 0.4,
                 contrast: float = 0.4,
                 saturation: float = 0.2,
                 hue: float = 0.1,
                 gray_prob: float = 0.2,
                 blur_probs: Sequence[float] = (1.0, 0.1, 0.5),
                 blur_sigma: Sequence[float] = (0.1, 2.0),
                 solarize_probs: Sequence[float] = (0.0, 0.2, 0.0),
                 solarize_threshold: float = 128,
                 photometric: bool = True,
                 record_ops: bool = False) -> None:
        self.global_size, self.local_size, self.num_local = \
            check_view_sizes(global_size, local_size, num_local)
        self.global_scale = check_interval('global_scale', global_scale, 0,
                                           1, low_open=True)
        self.local_scale = check_interval('local_scale', local_scale, 0, 1,
                                          low_open=True)
        self.ratio = check_interval('ratio', ratio, 0, low_open=True)
        if interpolation not in _INTERPOLATIONS:
            raise ValueError(f'interpolation must be one of '
                             f'{sorted(_INTERPOLATIONS)}, got '
                             f'{interpolation!r}')
        self.interpolation = interpolation
        self.flip_prob = check_scalar('flip_prob', flip_prob, 0, 1)
        self.jitter_prob = check_scalar('jitter_prob', jitter_prob, 0, 1)
        self.brightness = check_scalar('brightness', brightness, 0)
        self.contrast = check_scalar('contrast', contrast, 0)
        self.saturation = check_scalar('saturation', saturation, 0)
        self.hue = check_scalar('hue', hue, 0, 0.5)
        self.gray_prob = check_scalar('gray_prob', gray_prob, 0, 1)
        per_kind = f'for {CROP_KINDS}'
        self.blur_probs = check_scalars('blur_probs', blur_probs, 3, 0, 1,
                                        meaning=per_kind)
        self.blur_sigma = check_interval('blur_sigma', blur_sigma, 0,
                                         low_open=True)
        self.solarize_probs = check_scalars('solarize_probs',
                                            solarize_probs, 3, 0, 1,
                                            meaning=per_kind)
        check_scalar('solarize_threshold', solarize_threshold, 0, 255)
        self.solarize_threshold = solarize_threshold
        self.photometric = bool(photometric)
        self.record_ops = bool(record_ops)

    @property
    def num_views(self) -> int:
        """Number of output views (2 global + ``num_local``)."""
        return 2 + self.num_local

    # -- per-view pipeline ---------------------------------------------------
    def _color_jitter(self, img: np.ndarray, rec: Optional[dict]
                      ) -> np.ndarray:
        """torchvision ``ColorJitter`` on ``img`` ((H, W, 3) float32 holding
        uint8 values): a random order of the four ops, then the factors
        drawn in the order brightness, contrast, saturation, hue (an op of
        strength 0 is skipped and draws nothing)."""
        order = np.random.permutation(4)
        b = (None if self.brightness == 0 else np.random.uniform(
            max(0.0, 1.0 - self.brightness), 1.0 + self.brightness))
        c = (None if self.contrast == 0 else np.random.uniform(
            max(0.0, 1.0 - self.contrast), 1.0 + self.contrast))
        s = (None if self.saturation == 0 else np.random.uniform(
            max(0.0, 1.0 - self.saturation), 1.0 + self.saturation))
        h = (None if self.hue == 0 else np.random.uniform(
            -self.hue, self.hue))
        for idx in order:
            if idx == 0 and b is not None:
                img = adjust_brightness(img, b)
            elif idx == 1 and c is not None:
                img = adjust_contrast(img, c)
            elif idx == 2 and s is not None:
                img = adjust_saturation(img, s)
            elif idx == 3 and h is not None:
                img = adjust_hue(img, h)
        if rec is not None:
            rec.update(jitter_order=[_JITTER_OPS[i] for i in order],
                       brightness=None if b is None else float(b),
                       contrast=None if c is None else float(c),
                       saturation=None if s is None else float(s),
                       hue=None if h is None else float(h))
        return img

    def _photometric_ops(self, img: np.ndarray, kind: int,
                         rec: Optional[dict]) -> np.ndarray:
        """Jitter, grayscale, blur, solarize (iBOT's order) on a
        (H, W, 3) float32 view holding uint8 values; ``kind`` indexes
        :data:`CROP_KINDS`."""
        if rec is not None:
            rec.update(jitter_order=None, brightness=None, contrast=None,
                       saturation=None, hue=None)
        do_jitter = np.random.rand() < self.jitter_prob
        if do_jitter:
            img = self._color_jitter(img, rec)
        do_gray = np.random.rand() < self.gray_prob
        if do_gray:
            img = rgb_to_grayscale(img)
        do_blur = np.random.rand() < self.blur_probs[kind]
        sigma = None
        if do_blur:
            sigma = float(np.random.uniform(*self.blur_sigma))
            img = gaussian_blur(img, sigma)
        do_solarize = np.random.rand() < self.solarize_probs[kind]
        if do_solarize:
            img = solarize(img, self.solarize_threshold)
        if rec is not None:
            rec.update(jitter=bool(do_jitter), gray=bool(do_gray),
                       blur=bool(do_blur), blur_sigma=sigma,
                       blur_kernel=(blur_kernel_size(sigma)
                                    if do_blur else None),
                       solarize=bool(do_solarize))
        return img

    def _view(self, src: np.ndarray, bgr: bool, size: int,
              scale: Tuple[float, float], kind: int, rec: Optional[dict]
              ) -> Tuple[torch.Tensor, Tuple[int, int, int, int, int]]:
        """One view of ``src`` ((H, W, 3) uint8, BGR if ``bgr`` else RGB):
        (3, size, size) uint8 RGB tensor and its ``crop_params`` row."""
        height, width = src.shape[:2]
        top, left, h, w = random_resized_crop_params(height, width, scale,
                                                     self.ratio)
        planes = resize_box(src, (top, left, h, w), size,
                            _INTERPOLATIONS[self.interpolation])
        flipped = bool(np.random.rand() < self.flip_prob)
        if self.photometric:
            img = planes_to_hwc(planes, reverse=bgr)
            if flipped:
                img = cv2.flip(img, 1)
            img = self._photometric_ops(img.astype(np.float32), kind, rec)
            view = hwc_to_planes(img.astype(np.uint8))
        else:
            dims = ((0, ) if bgr else ()) + ((2, ) if flipped else ())
            view = planes.flip(dims) if dims else planes
        if rec is not None:
            rec.update(kind=CROP_KINDS[kind], flip=flipped)
        return view, (left, top, w, h, int(flipped))

    @staticmethod
    def _source(img, name: str) -> Tuple[np.ndarray, bool]:
        """``(array, bgr)``: a 3-channel uint8 source and whether it is BGR
        (a 3-channel input is used as it is, a gray one replicated)."""
        if not isinstance(img, np.ndarray) or img.dtype != np.uint8:
            raise TypeError(f'iBOTMultiCrop expects {name} to be a '
                            'uint8 numpy array (H, W, 3) in BGR order, got '
                            f'{type(img).__name__}'
                            f'{getattr(img, "dtype", "")}')
        if img.ndim == 3 and img.shape[2] == 1:
            img = img[..., 0]
        if img.ndim == 2:
            src, bgr = cv2.cvtColor(img, cv2.COLOR_GRAY2RGB), False
        elif img.ndim == 3 and img.shape[2] == 3:
            src, bgr = img, True
        else:
            raise ValueError(f'iBOTMultiCrop expects {name} to be an '
                             '(H, W, 3) BGR or (H, W) gray image, got shape '
                             f'{img.shape}')
        if src.shape[0] < 1 or src.shape[1] < 1:
            raise ValueError(f'{name}: empty image of shape {img.shape}')
        return src, bgr

    def view_source(self, i: int, num_sources: int) -> int:
        """Source image of view ``i``: 0 for global view 1, 1 for global
        view 2, ``j mod 2`` for local view ``j`` (``i = 2 + j``) when there
        are two sources; always 0 for one."""
        if num_sources == 1:
            return 0
        return i if i < 2 else (i - 2) % 2

    def transform(self, results: Dict) -> Dict:
        """Replace ``results['img']`` by the list of views; add
        ``crop_params`` and ``view_sizes`` (and ``aug_record``; and
        ``view_sources`` for two source images)."""
        img = results['img']
        two_sources = False
        if isinstance(img, (list, tuple)):
            if len(img) not in (1, 2):
                raise ValueError(
                    'iBOTMultiCrop expects results["img"] to be one image '
                    'or a list of 1 or 2 source images (two renders of one '
                    f'object), got a list of {len(img)}')
            sources = [self._source(x, f'results["img"][{k}]')
                       for k, x in enumerate(img)]
            two_sources = len(sources) == 2
        else:
            sources = [self._source(img, 'results["img"]')]

        views: List[torch.Tensor] = []
        params = np.empty((self.num_views, 5), dtype=np.float32)
        origin = np.empty(self.num_views, dtype=np.int64)
        records = [] if self.record_ops else None
        for i in range(self.num_views):
            is_global = i < 2
            kind = i if is_global else 2
            rec = {} if self.record_ops else None
            origin[i] = self.view_source(i, len(sources))
            view, params[i] = self._view(
                *sources[origin[i]],
                self.global_size if is_global else self.local_size,
                self.global_scale if is_global else self.local_scale, kind,
                rec)
            views.append(view)
            if records is not None:
                records.append(rec)
        results['img'] = views
        results['crop_params'] = params
        results['view_sizes'] = tuple([self.global_size] * 2 +
                                      [self.local_size] * self.num_local)
        if two_sources:
            results['view_sources'] = tuple(int(k) for k in origin)
        if records is not None:
            results['aug_record'] = records
        return results

    def __repr__(self) -> str:
        fields = ('global_size', 'local_size', 'num_local', 'global_scale',
                  'local_scale', 'ratio', 'interpolation', 'flip_prob',
                  'jitter_prob', 'brightness', 'contrast', 'saturation',
                  'hue', 'gray_prob', 'blur_probs', 'blur_sigma',
                  'solarize_probs', 'solarize_threshold', 'photometric',
                  'record_ops')
        args = ', '.join(f'{f}={getattr(self, f)!r}' for f in fields)
        return f'{self.__class__.__name__}({args})'
