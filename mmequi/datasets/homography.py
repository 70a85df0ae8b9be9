"""Synthetic homography pairs ("S-COCO") from any folder of images.

Reference: D. DeTone, T. Malisiewicz, A. Rabinovich, *Deep Image Homography
Estimation*, arXiv 1606.03798, 2016 (Sec. 3 "Dataset generation"); the
transfer benchmark of Wang et al., AAAI-26 (arXiv 2503.18753) reports its
mean corner error on COCO.

One pair (all coordinates in pixels of the *resized* image, ``x`` to the
right = column, ``y`` down = row; pixel ``(row i, column j)`` sits at
``(x, y) = (j, i)``)::

    img      = resize(grayscale(imread(path)), img_scale)        # 240 x 320
    (x0, y0) ~ integers, x0 in [rho, W - rho - P], y0 in [rho, H - rho - P]
    corners  = [(x0, y0), (x0 + P, y0), (x0 + P, y0 + P), (x0, y0 + P)]
               # top-left, top-right, bottom-right, bottom-left
    offsets  ~ U[-rho, rho], (4, 2) = (dx, dy) per corner, independent
    H        = cv2.getPerspectiveTransform(corners, corners + offsets)
    warped   = cv2.warpPerspective(img, inv(H), (W, H))   # warped(p) = img(H p)
    patch_a  = img   [y0:y0 + P, x0:x0 + P]
    patch_b  = warped[y0:y0 + P, x0:x0 + P]
    target   = offsets                                    # (4, 2) float32

``P = patch_size = 128``, ``rho = 32``, ``img_scale = (W, H) = (320, 240)``
(DeTone et al.). The corner points are the *extent* of the patch (the
top-left pixel and one past the bottom-right pixel, as the common
re-implementations of DeTone et al.), so the perturbed corners stay inside
``[0, W] x [0, H]`` and patch B only samples the image (the at most one
pixel wide rim beyond the last pixel centre is filled by
``BORDER_REPLICATE``). Patch B at pixel ``p`` shows the image at ``H p``:
the content of the perturbed quadrilateral, rectified to the square.
Offsets are continuous (DeTone et al. do not say; integers would quantise
the target). Resizing is bilinear (``cv2.INTER_LINEAR``) to exactly
``(W, H)``, ignoring the aspect ratio, as DeTone et al.'s 320x240; the
grayscale conversion is ``cv2.cvtColor(BGR2GRAY)`` of the decoded image.

Randomness:

* evaluation (``deterministic=True``, the default when ``test_mode=True``):
  the pair of index ``i`` is a pure function of ``(seed, i)``: it is drawn
  from ``np.random.default_rng([seed, i])``, so it is the same in every
  epoch, in two dataset instances, on every rank and in every dataloader
  worker;
* training (``deterministic=False``): each call draws a fresh generator
  ``np.random.default_rng([np.random.randint(2**32), i])`` from the
  process-global numpy generator, so a new pair per index per epoch. That
  generator is what mmengine seeds: ``randomness=dict(seed=S)`` seeds the
  main process; mmequi's ``EpochSeedHook`` (in ``default_runtime.py``)
  reseeds it at every epoch from ``(S, epoch, rank)`` and
  ``worker_init_fn=dict(type='epoch_worker_init_fn')`` seeds each worker
  from it, so with ``persistent_workers=False`` epoch ``k`` is the same with
  or without ``--resume`` and ranks/workers draw different pairs.

The dataset returns a dict for the pipeline (usually just
:class:`PackHomographyInputs`): ``patch_a``, ``patch_b`` (uint8, ``(P, P)``
grayscale or ``(P, P, 3)`` BGR), ``offsets`` (4, 2) float32, ``corners``
(4, 2) float32, ``homography`` (3, 3) float64 (maps ``corners`` to
``corners + offsets``), ``img_path``, ``sample_idx``, ``img_shape``
(resized ``(H, W)``), ``ori_shape`` (the file's ``(h, w)``), ``rho``;
with ``keep_image=True`` also ``img`` and ``warped`` (the full resized and
warped images, for tests and visualisation).
"""
from typing import List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmengine.fileio import get, isdir, join_path, list_dir_or_file
from mmpretrain.datasets import BaseDataset
from mmpretrain.registry import DATASETS, TRANSFORMS
from mmpretrain.structures import DataSample

__all__ = [
    'HomographyPairs', 'PackHomographyInputs', 'CORNER_ORDER',
    'IMG_EXTENSIONS', 'patch_corners', 'make_homography_pair'
]

#: Order of the 4 corners in ``corners`` / ``offsets`` (each row (x, y)).
CORNER_ORDER: Tuple[str, ...] = ('top_left', 'top_right', 'bottom_right',
                                 'bottom_left')

#: File suffixes read from the image folder (case-insensitive).
IMG_EXTENSIONS: Tuple[str, ...] = ('.jpg', '.jpeg', '.png', '.ppm', '.bmp',
                                   '.pgm', '.tif', '.tiff', '.webp')

COLOR_TYPES = ('grayscale', 'color')


def patch_corners(x0: float, y0: float, size: int) -> np.ndarray:
    """(4, 2) float32 corner points ``(x, y)`` of the ``size`` x ``size``
    patch whose top-left pixel is ``(x0, y0)``, in :data:`CORNER_ORDER`
    (extent convention: ``x0 + size`` is one past the last column)."""
    return np.array([[x0, y0], [x0 + size, y0], [x0 + size, y0 + size],
                     [x0, y0 + size]], dtype=np.float32)


def make_homography_pair(img: np.ndarray, rng: np.random.Generator,
                         patch_size: int = 128, rho: float = 32.0) -> dict:
    """DeTone et al.'s pair from one (already resized) image.

    Args:
        img: (H, W) or (H, W, C) uint8 image.
        rng: the generator that draws the patch position (2 integers, then)
            and the (4, 2) offsets ``U[-rho, rho]``.
        patch_size: P.
        rho: the largest corner displacement (pixels).

    Returns:
        dict with ``patch_a``, ``patch_b`` ((P, P[, C]) uint8), ``offsets``
        (4, 2) float32, ``corners`` (4, 2) float32, ``homography`` (3, 3)
        float64 and ``warped`` (the whole warped image); see the module
        docstring.
    """
    h, w = img.shape[:2]
    free_x = w - 2 * rho - patch_size
    free_y = h - 2 * rho - patch_size
    if free_x < 0 or free_y < 0:
        raise ValueError(
            f'a {patch_size} px patch with rho={rho} needs an image of at '
            f'least {patch_size + 2 * rho} x {patch_size + 2 * rho} px, got '
            f'{w} x {h} (W x H): enlarge img_scale or reduce patch_size/rho')
    lo = int(np.ceil(rho))
    x0 = int(rng.integers(lo, int(np.floor(w - rho - patch_size)) + 1))
    y0 = int(rng.integers(lo, int(np.floor(h - rho - patch_size)) + 1))
    corners = patch_corners(x0, y0, patch_size)
    offsets = rng.uniform(-rho, rho, size=(4, 2)).astype(np.float32)
    homography = cv2.getPerspectiveTransform(corners, corners + offsets)
    warped = cv2.warpPerspective(img, np.linalg.inv(homography), (w, h),
                                 flags=cv2.INTER_LINEAR,
                                 borderMode=cv2.BORDER_REPLICATE)
    sl = (slice(y0, y0 + patch_size), slice(x0, x0 + patch_size))
    return dict(patch_a=np.ascontiguousarray(img[sl]),
                patch_b=np.ascontiguousarray(warped[sl]),
                offsets=offsets, corners=corners, homography=homography,
                warped=warped)


@DATASETS.register_module()
class HomographyPairs(BaseDataset):
    """Homography pairs of DeTone et al. from every image under a folder.

    See the module docstring for the construction, the coordinate and
    corner conventions and the randomness.

    Args:
        data_root: root joined with ``data_prefix`` (e.g. ``'data/coco'``).
        data_prefix: the image folder, scanned recursively for
            :data:`IMG_EXTENSIONS` (e.g. ``'train2017'``, ``'val2017'``);
            a str or ``dict(img_path=...)``. Files are sorted by relative
            path, so index ``i`` is the same image on every machine.
        img_scale: ``(W, H)`` every image is resized to (320, 240).
        patch_size: P (128).
        rho: largest corner displacement in pixels (32).
        color_type: ``'grayscale'`` (DeTone et al.; patches (P, P)) or
            ``'color'`` (BGR patches (P, P, 3)).
        num_images: use only the first N images (sorted order); None: all.
        pairs_per_image: pairs per image per epoch; index ``i`` uses image
            ``i // pairs_per_image``.
        seed: the seed of the deterministic (evaluation) pairs.
        deterministic: pairs as a function of ``(seed, index)``; defaults to
            ``test_mode``.
        keep_image: also return the full ``img`` and ``warped`` images.
        backend_args: mmengine file backend arguments.
        pipeline, test_mode, indices, lazy_init, ...: as mmpretrain's
            :class:`BaseDataset`.

    Raises:
        FileNotFoundError: the folder does not exist, or holds no image.
        ValueError: an image cannot be decoded (naming the file), or the
            geometry does not fit (``img_scale`` smaller than P + 2 rho).
    """

    def __init__(self,
                 data_root: str = '',
                 data_prefix: Union[str, dict] = '',
                 img_scale: Sequence[int] = (320, 240),
                 patch_size: int = 128,
                 rho: float = 32.0,
                 color_type: str = 'grayscale',
                 num_images: Optional[int] = None,
                 pairs_per_image: int = 1,
                 seed: int = 0,
                 deterministic: Optional[bool] = None,
                 keep_image: bool = False,
                 backend_args: Optional[dict] = None,
                 pipeline: Sequence = (),
                 test_mode: bool = False,
                 **kwargs) -> None:
        if color_type not in COLOR_TYPES:
            raise ValueError(f'HomographyPairs: color_type={color_type!r}; '
                             f'choose from {COLOR_TYPES}')
        img_scale = tuple(int(v) for v in img_scale)
        if len(img_scale) != 2 or min(img_scale) <= 0:
            raise ValueError(f'HomographyPairs: img_scale must be (W, H) '
                             f'positive, got {img_scale}')
        if patch_size <= 0 or rho < 0:
            raise ValueError(f'HomographyPairs: patch_size={patch_size} must '
                             f'be > 0 and rho={rho} >= 0')
        need = patch_size + 2 * rho
        if img_scale[0] < need or img_scale[1] < need:
            raise ValueError(
                f'HomographyPairs: img_scale={img_scale} (W, H) is smaller '
                f'than patch_size + 2 * rho = {need}: the perturbed corners '
                'would leave the image')
        if num_images is not None and num_images <= 0:
            raise ValueError(f'HomographyPairs: num_images={num_images} must '
                             'be positive (or None for all)')
        if pairs_per_image < 1:
            raise ValueError(f'HomographyPairs: pairs_per_image='
                             f'{pairs_per_image} must be >= 1')
        if seed < 0:
            raise ValueError(f'HomographyPairs: seed={seed} must be >= 0')
        self.img_scale = img_scale
        self.patch_size = int(patch_size)
        self.rho = float(rho)
        self.color_type = color_type
        self.num_images = num_images
        self.pairs_per_image = int(pairs_per_image)
        self.seed = int(seed)
        self.deterministic = test_mode if deterministic is None \
            else bool(deterministic)
        self.keep_image = keep_image
        self.backend_args = backend_args
        super().__init__(ann_file='', data_root=data_root,
                         data_prefix=data_prefix, pipeline=pipeline,
                         test_mode=test_mode, **kwargs)

    # ------------------------------------------------------------ listing
    def load_data_list(self) -> List[dict]:
        folder = self.data_prefix.get('img_path', '')
        if not folder or not isdir(folder, backend_args=self.backend_args):
            raise FileNotFoundError(
                f'HomographyPairs: image folder {folder!r} does not exist '
                f'(data_root={self.data_root!r}, data_prefix='
                f'{self.data_prefix!r})')
        files = sorted(
            f for f in list_dir_or_file(
                folder, list_dir=False, recursive=True,
                backend_args=self.backend_args)
            if f.lower().endswith(IMG_EXTENSIONS))
        if not files:
            raise FileNotFoundError(
                f'HomographyPairs: no image ({"/".join(IMG_EXTENSIONS)}) '
                f'under {folder!r} (searched recursively)')
        if self.num_images is not None:
            if self.num_images > len(files):
                raise ValueError(
                    f'HomographyPairs: num_images={self.num_images} but '
                    f'{folder!r} holds only {len(files)} images')
            files = files[:self.num_images]
        return [dict(img_path=join_path(folder, f), image_idx=i)
                for i, f in enumerate(files)
                for _ in range(self.pairs_per_image)]

    # ------------------------------------------------------------ pairs
    def load_image(self, path: str) -> Tuple[np.ndarray, Tuple[int, int]]:
        """Decode ``path`` and resize it to ``img_scale``: ((H, W) gray or
        (H, W, 3) BGR uint8, the file's (h, w))."""
        try:
            data = get(path, backend_args=self.backend_args)
        except Exception as e:
            raise FileNotFoundError(
                f'HomographyPairs: cannot read {path}: {type(e).__name__}: '
                f'{e}') from e
        img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        if img is None:
            raise ValueError(f'HomographyPairs: cannot decode image {path} '
                             f'({len(data)} bytes; not an image OpenCV '
                             'reads)')
        ori_shape = img.shape[:2]
        if self.color_type == 'grayscale':
            img = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
        img = cv2.resize(img, self.img_scale, interpolation=cv2.INTER_LINEAR)
        return img, ori_shape

    def rng(self, idx: int) -> np.random.Generator:
        """The generator of the pair of index ``idx`` (module docstring)."""
        if self.deterministic:
            return np.random.default_rng([self.seed, idx])
        return np.random.default_rng([int(np.random.randint(2**32)), idx])

    def prepare_data(self, idx: int) -> dict:
        info = self.get_data_info(idx)
        img, ori_shape = self.load_image(info['img_path'])
        pair = make_homography_pair(img, self.rng(info['sample_idx']),
                                    self.patch_size, self.rho)
        warped = pair.pop('warped')
        info.update(pair, img_shape=img.shape[:2], ori_shape=ori_shape,
                    rho=self.rho)
        if self.keep_image:
            info.update(img=img, warped=warped)
        return self.pipeline(info)

    def extra_repr(self) -> List[str]:
        return [f'Image folder: \t{self.data_prefix.get("img_path")}',
                f'Image scale (W, H): \t{self.img_scale}',
                f'Patch size / rho: \t{self.patch_size} / {self.rho}',
                f'Color type: \t{self.color_type}',
                f'Deterministic: \t{self.deterministic} (seed {self.seed})']


@TRANSFORMS.register_module()
class PackHomographyInputs(BaseTransform):
    """Pack a :class:`HomographyPairs` dict for the model.

    Output::

        inputs:       uint8 tensor (2, C, P, P): [patch_a, patch_b],
                      C = 1 (grayscale) or 3 (BGR)
        data_samples: DataSample with
                      gt_offsets (4, 2) float32 tensor, pixels, (dx, dy) in
                      CORNER_ORDER, and the ``meta_keys`` as metainfo.

    With ``default_collate`` a batch is ``inputs`` (B, 2, C, P, P) and a
    list of data samples; see
    :class:`~mmequi.models.algorithms.HomographyDataPreprocessor`.
    """

    def __init__(self, meta_keys: Sequence[str] = (
            'img_path', 'sample_idx', 'corners', 'img_shape', 'ori_shape',
            'rho')) -> None:
        self.meta_keys = tuple(meta_keys)

    @staticmethod
    def _chw(name: str, patch: np.ndarray) -> torch.Tensor:
        if patch.ndim == 2:
            patch = patch[..., None]
        if patch.ndim != 3 or patch.dtype != np.uint8:
            raise ValueError(f'PackHomographyInputs: {name} must be a uint8 '
                             f'(P, P) or (P, P, C) array, got {patch.dtype} '
                             f'{patch.shape}')
        return torch.from_numpy(np.ascontiguousarray(
            patch.transpose(2, 0, 1)))

    def transform(self, results: dict) -> dict:
        for key in ('patch_a', 'patch_b', 'offsets'):
            if key not in results:
                raise KeyError(f'PackHomographyInputs: the results have no '
                               f'{key!r} (use it after HomographyPairs); '
                               f'keys: {sorted(results)}')
        a = self._chw('patch_a', results['patch_a'])
        b = self._chw('patch_b', results['patch_b'])
        if a.shape != b.shape:
            raise ValueError(f'PackHomographyInputs: patch_a {tuple(a.shape)}'
                             f' and patch_b {tuple(b.shape)} differ')
        offsets = np.asarray(results['offsets'], dtype=np.float32)
        if offsets.shape != (4, 2):
            raise ValueError(f'PackHomographyInputs: offsets must be (4, 2), '
                             f'got {offsets.shape}')
        sample = DataSample()
        sample.set_field(torch.from_numpy(offsets.copy()), 'gt_offsets')
        missing = [k for k in self.meta_keys if k not in results]
        if missing:
            raise KeyError(f'PackHomographyInputs: meta_keys {missing} are '
                           f'not in the results ({sorted(results)})')
        sample.set_metainfo({k: results[k] for k in self.meta_keys})
        return dict(inputs=torch.stack([a, b]), data_samples=sample)

    def __repr__(self) -> str:
        return f'{type(self).__name__}(meta_keys={self.meta_keys})'

