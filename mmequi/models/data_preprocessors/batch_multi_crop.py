"""iBOT's multi-crop, batched on the device (GPU path of the data pipeline).

The CPU pipeline (:class:`~mmequi.datasets.transforms.iBOTMultiCrop`, one
image at a time in the loader workers) makes about 200 samples/s per core
at 128 px with 2 + 4 views: far below what a small ViT consumes on one GPU.
:class:`BatchMultiCrop` draws the same random operations for a whole batch
at once and applies them with batched tensor ops, so the loader only has to
hand over decoded images (:class:`~mmequi.datasets.InMemoryDataset`).

Per view and sample, in iBOT's order (Zhou et al., ICLR 2022,
``DataAugmentationiBOT``), with torch's generator on the device:

1. RandomResizedCrop (torchvision's algorithm: 10 tries of an area
   fraction ~ U(scale) and a log-uniform aspect ratio, else the clamped
   central crop), resampled with ``grid_sample`` (bicubic, border
   padding) -- no antialiasing, so it matches the CPU path where a crop is
   not shrunk (true for the toy sets: every crop is enlarged);
2. horizontal flip (folded into the sampling grid);
3. colour jitter with probability ``jitter_prob``: brightness, contrast,
   saturation and hue factors as torchvision's ``ColorJitter``, applied in a
   random order per sample;
4. grayscale, Gaussian blur (σ ~ U(blur_sigma), radius ceil(3σ), reflect
   borders), solarize (values >= 0.5 inverted), each with its per-view-kind
   probability.

Values stay continuous between the ops (the CPU path truncates to integers
after each op, as torchvision's uint8 kernels); the output is rounded to
uint8 once. The two paths draw their random numbers differently, so they
agree in distribution, not pixel for pixel
(tests/models/data_preprocessors/test_batch_multi_crop.py compares the
statistics).
"""
import math
from typing import Dict, List, Optional, Sequence

import torch
import torch.nn.functional as F
from mmpretrain.registry import MODELS

from mmequi.param_transforms import sample_uniform, to_uint8, to_unit

from .batch_photometric import (PHOTOMETRIC_KEYS, BatchPhotometric,
                                DeviceViewsDataPreprocessor, view_kind)

__all__ = ['BatchMultiCrop', 'BatchMultiCropDataPreprocessor']


def crop_boxes(n: int, height: int, width: int, scale: Sequence[float],
               ratio: Sequence[float], device,
               generator: Optional[torch.Generator] = None,
               attempts: int = 10) -> torch.Tensor:
    """``n`` RandomResizedCrop boxes ``(top, left, h, w)`` (float, whole
    pixels), torchvision's algorithm vectorised: the first of ``attempts``
    tries that fits, else the central crop with the ratio clamped."""
    area = height * width
    target = area * sample_uniform(
        (n * attempts, ), scale[0], scale[1], device=device,
        generator=generator).view(n, attempts)
    log_r = sample_uniform(
        (n * attempts, ), math.log(ratio[0]), math.log(ratio[1]),
        device=device, generator=generator).view(n, attempts)
    aspect = log_r.exp()
    w = torch.round(torch.sqrt(target * aspect))
    h = torch.round(torch.sqrt(target / aspect))
    ok = (w > 0) & (w <= width) & (h > 0) & (h <= height)  # (n, tries)
    first = torch.argmax(ok.int(), dim=1)  # first fitting try (0 if none)
    any_ok = ok.any(dim=1)
    w = w.gather(1, first[:, None])[:, 0]
    h = h.gather(1, first[:, None])[:, 0]
    u = torch.rand(n, 2, device=device, generator=generator)
    top = torch.floor(u[:, 0] * (height - h + 1))
    left = torch.floor(u[:, 1] * (width - w + 1))
    # fallback: central crop, aspect ratio clamped to ``ratio``
    in_ratio = width / height
    if in_ratio < min(ratio):
        fw, fh = width, round(width / min(ratio))
    elif in_ratio > max(ratio):
        fh, fw = height, round(height * max(ratio))
    else:
        fw, fh = width, height
    fb = torch.tensor([(height - fh) // 2, (width - fw) // 2, fh, fw],
                      dtype=w.dtype, device=device)
    box = torch.stack([top, left, h, w], dim=1)
    return torch.where(any_ok[:, None], box, fb)


def resized_crop(img: torch.Tensor, boxes: torch.Tensor, size: int,
                 flip: torch.Tensor, mode: str = 'bicubic') -> torch.Tensor:
    """Crop ``boxes`` (B, 4) = (top, left, h, w) from float images
    (B, C, H, W), resize to ``size`` x ``size`` (pixel-centre aligned, as
    ``resize(img[top:top+h, left:left+w])``) and flip rows where ``flip``."""
    b, _, height, width = img.shape
    top, left, h, w = boxes.unbind(1)
    j = (torch.arange(size, device=img.device, dtype=img.dtype) + 0.5) / size
    jx = torch.where(flip[:, None], 1.0 - j[None], j[None])  # (B, S)
    # pixel x = left + jx * w - 0.5  ->  normalised (2x + 1) / W - 1
    gx = (2 * (left[:, None] + jx * w[:, None])) / width - 1.0
    gy = (2 * (top[:, None] + j[None] * h[:, None])) / height - 1.0
    grid = torch.stack([gx[:, None, :].expand(b, size, size),
                        gy[:, :, None].expand(b, size, size)], dim=-1)
    return F.grid_sample(img, grid, mode=mode, padding_mode='border',
                         align_corners=False)


class BatchMultiCrop:
    """2 global + ``num_local`` local views of a uint8 batch (see the
    module docstring). Arguments as
    :class:`~mmequi.datasets.transforms.iBOTMultiCrop` (``interpolation``:
    ``'bicubic'`` or ``'bilinear'``; ``solarize_threshold`` in 0..255)."""

    def __init__(self, global_size: int = 224, local_size: int = 96,
                 num_local: int = 10,
                 global_scale: Sequence[float] = (0.25, 1.0),
                 local_scale: Sequence[float] = (0.05, 0.25),
                 ratio: Sequence[float] = (3. / 4., 4. / 3.),
                 interpolation: str = 'bicubic', flip_prob: float = 0.5,
                 jitter_prob: float = 0.8, brightness: float = 0.4,
                 contrast: float = 0.4, saturation: float = 0.2,
                 hue: float = 0.1, gray_prob: float = 0.2,
                 blur_probs: Sequence[float] = (1.0, 0.1, 0.5),
                 blur_sigma: Sequence[float] = (0.1, 2.0),
                 solarize_probs: Sequence[float] = (0.0, 0.2, 0.0),
                 solarize_threshold: float = 128,
                 photometric: bool = True) -> None:
        # the CPU transform validates every value the same way
        from mmequi.datasets.transforms import iBOTMultiCrop
        ref = iBOTMultiCrop(
            global_size=global_size, local_size=local_size,
            num_local=num_local, global_scale=global_scale,
            local_scale=local_scale, ratio=ratio,
            interpolation=interpolation, flip_prob=flip_prob,
            jitter_prob=jitter_prob, brightness=brightness,
            contrast=contrast, saturation=saturation, hue=hue,
            gray_prob=gray_prob, blur_probs=blur_probs,
            blur_sigma=blur_sigma, solarize_probs=solarize_probs,
            solarize_threshold=solarize_threshold, photometric=photometric)
        for key in ('global_size', 'local_size', 'num_local', 'global_scale',
                    'local_scale', 'ratio', 'interpolation', 'flip_prob',
                    'photometric'):
            setattr(self, key, getattr(ref, key))
        #: the colour ops (the same as BatchPhotometricDataPreprocessor's)
        self.photometric_aug = BatchPhotometric(
            **{k: (solarize_threshold if k == 'solarize_threshold' else
                   getattr(ref, k)) for k in PHOTOMETRIC_KEYS})

    @property
    def num_views(self) -> int:
        return 2 + self.num_local

    def __call__(self, images: torch.Tensor,
                 generator: Optional[torch.Generator] = None
                 ) -> List[torch.Tensor]:
        """uint8 (B, 3, H, W) RGB -> ``2 + num_local`` uint8 views
        (B, 3, S, S), global ones first."""
        if images.dim() != 4 or images.shape[1] != 3:
            raise ValueError('BatchMultiCrop expects (B, 3, H, W) images, '
                             f'got shape {tuple(images.shape)}')
        if images.dtype != torch.uint8:
            raise TypeError(f'BatchMultiCrop expects uint8 images, got '
                            f'{images.dtype}')
        img = to_unit(images)
        b, _, height, width = img.shape
        views = []
        for i in range(self.num_views):
            is_global = i < 2
            kind = view_kind(i)
            size = self.global_size if is_global else self.local_size
            scale = self.global_scale if is_global else self.local_scale
            boxes = crop_boxes(b, height, width, scale, self.ratio,
                               img.device, generator)
            flip = torch.rand(b, device=img.device,
                              generator=generator) < self.flip_prob
            view = resized_crop(img, boxes, size, flip, self.interpolation)
            view = view.clamp(0.0, 1.0)
            if self.photometric:
                view = self.photometric_ops(view, kind, generator)
            views.append(to_uint8(view))
        return views

    def photometric_ops(self, x: torch.Tensor, kind: int,
                        generator: Optional[torch.Generator] = None
                        ) -> torch.Tensor:
        """Jitter, grayscale, blur, solarize on float views in [0, 1]
        (:class:`BatchPhotometric`)."""
        return self.photometric_aug(x, kind, generator)


@MODELS.register_module()
class BatchMultiCropDataPreprocessor(DeviceViewsDataPreprocessor):
    """Make iBOT's views on the device, then run the model's own data
    preprocessor on them.

    Input (from :class:`~mmequi.datasets.InMemoryDataset` + PackInputs +
    ``default_collate``): ``inputs`` uint8 (B, 3, H, W) RGB images; the data
    samples carry everything else (e.g. the block masks of
    ``iBOTBlockMaskGenerator(input_size=...)`` in the loader). ``forward``
    replaces the images by ``BatchMultiCrop``'s views and calls
    ``preprocessor`` (e.g. ``EquiReconDataPreprocessor`` or
    ``SelfSupDataPreprocessor`` with ``to_rgb=False``).

    Args:
        multi_crop: :class:`BatchMultiCrop` arguments.
        preprocessor: the model's data preprocessor config.
    """

    def __init__(self, multi_crop: Dict, preprocessor: Dict) -> None:
        super().__init__(preprocessor)
        self.multi_crop = BatchMultiCrop(**multi_crop)

    def expand(self, data: dict) -> dict:
        """The batch with ``inputs`` replaced by the views (on the
        device)."""
        if not isinstance(data, dict) or 'inputs' not in data:
            raise TypeError('BatchMultiCropDataPreprocessor expects a dict '
                            'from default_collate')
        images = data['inputs']
        if isinstance(images, (list, tuple)):
            raise TypeError(
                'BatchMultiCropDataPreprocessor expects one image tensor '
                '(B, 3, H, W) per batch, got a list of views: remove '
                'iBOTMultiCrop from the pipeline (the views are made here)')
        images = self.cast_data(images)
        return dict(data, inputs=self.multi_crop(images))
