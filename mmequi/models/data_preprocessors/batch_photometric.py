"""iBOT's per-view photometric ops, batched on the device.

The CPU multi-crop (:class:`~mmequi.datasets.transforms.iBOTMultiCrop`)
spends about half of its time on the colour ops of its 12 views. For
ImageNet-like data the loader workers must still decode and crop (images
differ in size), but the photometric part can move to the device:

* the loader runs ``iBOTMultiCrop(photometric=False)`` (crops, resize,
  flips; no colour random numbers drawn) and collates the views;
* :class:`BatchPhotometricDataPreprocessor` applies
  :class:`BatchPhotometric` to every view of the batch on the device and
  hands the uint8 views to the model's own data preprocessor (e.g.
  ``EquiReconDataPreprocessor``, which then applies ``g_theta`` to view 2
  -- the same view, after the same ops, as on the CPU path).

Per view and sample, in iBOT's order (Zhou et al., ICLR 2022,
``DataAugmentationiBOT``), with torch's generator on the device: colour
jitter with probability ``jitter_prob`` (brightness, contrast, saturation
and hue factors as torchvision's ``ColorJitter``, in a random order per
sample), grayscale, Gaussian blur (sigma ~ U(blur_sigma), radius
ceil(3 sigma), reflect borders), solarize -- each with its per-view-kind
probability (kinds: global view 1, global view 2, local views).

Values stay continuous between the ops (the CPU path truncates to integers
after each op, as torchvision's uint8 kernels); the output is rounded to
uint8 once. The two paths draw their random numbers differently, so they
agree in distribution, not pixel for pixel
(tests/models/data_preprocessors/test_batch_photometric.py compares the
statistics). :class:`~mmequi.models.data_preprocessors.BatchMultiCrop`
(fixed-size images, crops on the device too) uses the same
:class:`BatchPhotometric`.
"""
from typing import Dict, List, Optional, Sequence

import torch
from mmengine.model import BaseDataPreprocessor
from mmpretrain.registry import MODELS

from mmequi.param_transforms import (Blur, PixelNormalizer, sample_uniform,
                                     to_uint8, to_unit)
from mmequi.param_transforms.color import (adjust_brightness,
                                           adjust_contrast, adjust_hue,
                                           adjust_saturation, rgb_to_gray)

__all__ = ['BatchPhotometric', 'BatchPhotometricDataPreprocessor',
           'DeviceViewsDataPreprocessor', 'view_kind', 'PHOTOMETRIC_KEYS']

#: the arguments of :class:`BatchPhotometric` (those of ``iBOTMultiCrop``
#: that concern the colour ops)
PHOTOMETRIC_KEYS = ('jitter_prob', 'brightness', 'contrast', 'saturation',
                    'hue', 'gray_prob', 'blur_probs', 'blur_sigma',
                    'solarize_probs', 'solarize_threshold')


def view_kind(index: int) -> int:
    """Kind of view ``index`` of a multi-crop (the index into the
    ``*_probs`` tuples): 0 global view 1, 1 global view 2, 2 local."""
    return index if index < 2 else 2


class BatchPhotometric:
    """Jitter, grayscale, blur and solarize on a batch of float views in
    [0, 1] (see the module docstring). Arguments and defaults as
    :class:`~mmequi.datasets.transforms.iBOTMultiCrop`'s photometric ones
    (``solarize_threshold`` in 0..255), validated by it."""

    def __init__(self, jitter_prob: float = 0.8, brightness: float = 0.4,
                 contrast: float = 0.4, saturation: float = 0.2,
                 hue: float = 0.1, gray_prob: float = 0.2,
                 blur_probs: Sequence[float] = (1.0, 0.1, 0.5),
                 blur_sigma: Sequence[float] = (0.1, 2.0),
                 solarize_probs: Sequence[float] = (0.0, 0.2, 0.0),
                 solarize_threshold: float = 128) -> None:
        # the CPU transform validates every value the same way
        from mmequi.datasets.transforms import iBOTMultiCrop
        ref = iBOTMultiCrop(
            jitter_prob=jitter_prob, brightness=brightness,
            contrast=contrast, saturation=saturation, hue=hue,
            gray_prob=gray_prob, blur_probs=blur_probs,
            blur_sigma=blur_sigma, solarize_probs=solarize_probs,
            solarize_threshold=solarize_threshold)
        for key in PHOTOMETRIC_KEYS[:-1]:
            setattr(self, key, getattr(ref, key))
        #: in [0, 1] pixel units
        self.solarize_threshold = float(solarize_threshold) / 255.0
        self.blur = Blur(sigma=self.blur_sigma)

    def _jitter(self, x: torch.Tensor, generator) -> torch.Tensor:
        """ColorJitter with a random op order per sample."""
        b, dev = x.shape[0], x.device
        factors = []
        for s in (self.brightness, self.contrast, self.saturation):
            factors.append(sample_uniform(
                (b, ), max(0.0, 1.0 - s), 1.0 + s, device=dev,
                generator=generator) if s > 0 else None)
        shift = (sample_uniform((b, ), -self.hue, self.hue, device=dev,
                                generator=generator)
                 if self.hue > 0 else None)
        order = torch.argsort(torch.rand(b, 4, device=dev,
                                         generator=generator), dim=1)
        ops = [lambda y: adjust_brightness(y, factors[0]),
               lambda y: adjust_contrast(y, factors[1]),
               lambda y: adjust_saturation(y, factors[2]),
               lambda y: adjust_hue(y, shift)]
        active = [f is not None for f in factors] + [shift is not None]
        for step in range(4):
            out = x
            for op in range(4):
                if not active[op]:
                    continue
                sel = (order[:, step] == op)[:, None, None, None]
                out = torch.where(sel, ops[op](x), out)
            x = out
        return x

    def __call__(self, x: torch.Tensor, kind: int,
                 generator: Optional[torch.Generator] = None
                 ) -> torch.Tensor:
        """Float views (B, 3, S, S) in [0, 1] of one ``kind`` (see
        :func:`view_kind`) -> the same shape, every sample with its own
        random draws from ``generator`` (None: torch's global generator of
        the views' device)."""
        b, dev = x.shape[0], x.device

        def coin(p):
            return (torch.rand(b, device=dev, generator=generator) <
                    p)[:, None, None, None]

        x = torch.where(coin(self.jitter_prob), self._jitter(x, generator),
                        x)
        x = torch.where(coin(self.gray_prob),
                        rgb_to_gray(x).expand_as(x), x)
        blur = coin(self.blur_probs[kind])[:, 0, 0, 0]
        sigma = sample_uniform((b, ), *self.blur_sigma, device=dev,
                               generator=generator)
        sigma = torch.where(blur, sigma, torch.zeros_like(sigma))
        x = self.blur.apply(x, sigma[:, None])  # σ = 0: unchanged
        x = torch.where(coin(self.solarize_probs[kind]) &
                        (x >= self.solarize_threshold), 1.0 - x, x)
        return x

    def views(self, views: Sequence[torch.Tensor],
              generator: Optional[torch.Generator] = None
              ) -> List[torch.Tensor]:
        """A multi-crop's uint8 views (view ``i`` (B, 3, S_i, S_i), kind
        :func:`view_kind` ``(i)``) -> the uint8 views after the ops. Views
        of the same kind and size go through one batched call (the 10
        local views of iBOT's recipe: one call on 10 B images)."""
        groups: Dict[tuple, List[int]] = {}
        for i, v in enumerate(views):
            if v.dim() != 4 or v.shape[1] != 3 or v.dtype != torch.uint8:
                raise ValueError(
                    f'BatchPhotometric expects uint8 views (B, 3, H, W), '
                    f'got view {i} of {v.dtype} {tuple(v.shape)}')
            groups.setdefault((view_kind(i), tuple(v.shape[2:])),
                              []).append(i)
        out: List[Optional[torch.Tensor]] = [None] * len(views)
        for (kind, _), idx in groups.items():
            x = self(to_unit(torch.cat([views[i] for i in idx])), kind,
                     generator)
            for i, part in zip(idx, to_uint8(x).split(
                    [views[i].shape[0] for i in idx])):
                out[i] = part
        return out


class DeviceViewsDataPreprocessor(BaseDataPreprocessor):
    """Base of the preprocessors that finish the views on the device and
    then run the model's own data preprocessor (``inner``).

    Subclasses implement :meth:`expand` (the batch with its ``inputs``
    replaced by the finished uint8 views, on the device); hooks and
    diagnostics that need the views without the model's preprocessing call
    ``expand`` and then ``inner`` themselves.

    Args:
        preprocessor: the model's data preprocessor config (e.g.
            ``EquiReconDataPreprocessor`` or ``SelfSupDataPreprocessor``
            with ``to_rgb=False``).
    """

    def __init__(self, preprocessor: Dict) -> None:
        super().__init__()
        self.inner = MODELS.build(preprocessor)

    def expand(self, data: dict) -> dict:
        raise NotImplementedError

    def forward(self, data: dict, training: bool = False) -> dict:
        return self.inner(self.expand(data), training)

    @property
    def pixels(self) -> PixelNormalizer:
        """The model's own preprocessor's pixel normaliser (the easy-sample
        rescue re-normalises its strong views with it)."""
        return self.inner.pixels


@MODELS.register_module()
class BatchPhotometricDataPreprocessor(DeviceViewsDataPreprocessor):
    """Apply iBOT's photometric ops to the loader's views on the device,
    then run the model's own data preprocessor on them.

    Input (from ``iBOTMultiCrop(photometric=False)`` + ``PackInputs`` +
    ``default_collate``): ``inputs`` a list of ``2 + num_local`` uint8
    (B, 3, S, S) RGB views, global ones first (cropped, resized and flipped
    in the workers). ``forward`` replaces them by
    :meth:`BatchPhotometric.views` (random draws from torch's global
    generator of the device) and calls ``preprocessor``.

    Args:
        photometric: :class:`BatchPhotometric` arguments (those of the CPU
            recipe's ``iBOTMultiCrop``).
        preprocessor: the model's data preprocessor config.
    """

    def __init__(self, photometric: Dict, preprocessor: Dict) -> None:
        super().__init__(preprocessor)
        unknown = set(photometric) - set(PHOTOMETRIC_KEYS)
        if unknown:
            raise KeyError(f'BatchPhotometricDataPreprocessor: photometric '
                           f'has unknown keys {sorted(unknown)}; allowed '
                           f'are {list(PHOTOMETRIC_KEYS)}')
        self.photometric = BatchPhotometric(**photometric)

    def expand(self, data: dict) -> dict:
        """The batch with ``inputs`` replaced by the finished views (on
        the device)."""
        if not isinstance(data, dict) or 'inputs' not in data:
            raise TypeError('BatchPhotometricDataPreprocessor expects a '
                            'dict from default_collate')
        views = data['inputs']
        if not isinstance(views, (list, tuple)) or len(views) < 2:
            got = (f'a list of {len(views)}' if isinstance(
                views, (list, tuple)) else type(views).__name__)
            raise TypeError(
                'BatchPhotometricDataPreprocessor expects the list of '
                '2 + num_local views of iBOTMultiCrop(photometric=False), '
                f'got {got}')
        views = [self.cast_data(v) for v in views]
        return dict(data, inputs=self.photometric.views(views))
