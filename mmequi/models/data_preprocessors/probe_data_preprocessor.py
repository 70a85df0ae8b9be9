"""Data preprocessors of the equivariance probes.

:class:`ProbeDataPreprocessor` normalises the V views of every sample (one
image for classification, two renders for 3DIEBench pairs) and names each
view so that a frozen backbone's features can be cached by name (see
:class:`~mmequi.models.classifiers.EquivarianceProbe`).

:class:`TransformProbeDataPreprocessor` makes the synthetic-transform tasks
of Wang et al. (AAAI-26, arXiv 2503.18753, Table 1; also Garrido et al.'s
protocol for predicting a transformation from a pair): for every image I it
applies each family g (rotation, colour, blur, translation, ...) with its
own parameters θ_g, giving the views ``[I, g_1(I), ..., g_T(I)]``, and
writes the targets θ_g (rescaled to [-1, 1] by the family's range) into the
data samples. θ is a deterministic function of ``(seed, sample_idx)``, so
evaluation is reproducible and every view has a stable name.

Two protocols (``protocol=``), recorded in every data sample as
``probe_protocol`` and in every metric name by
:class:`~mmequi.evaluation.EquivarianceR2`:

* ``'zero_fill'`` -- the paper's: g_θ is applied to the whole image;
  rotation and translation leave a zero-filled region whose shape and size
  give θ away (a randomly initialised ViT reaches R²(rot) 0.80 on the toy
  set, and a content-blind detector of black pixels 0.99);
* ``'crop'`` -- leak-free: every view, the untransformed one included, is
  the central ``crop_size`` window of the (transformed) image, resampled
  to ``out_size`` in the same bilinear step; the window is small enough
  that no θ in the configured ranges brings fill into it
  (:func:`~mmequi.param_transforms.leak_free_window`). A
  translation then moves the window over the image; a rotation turns the
  image under it. Encoders that cannot see orientation score R²(rot) ≈ 0
  (tests/models/data_preprocessors/test_probe_data_preprocessor.py).
"""
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
import torch
from mmengine.logging import print_log
from mmpretrain.models.utils.data_preprocessor import SelfSupDataPreprocessor
from mmpretrain.registry import MODELS

from mmequi.param_transforms import (PixelNormalizer, build_param_transform,
                                     leak_free_window, se2_warp,
                                     window_is_leak_free)

__all__ = ['ProbeDataPreprocessor', 'TransformProbeDataPreprocessor',
           'hash_uniform', 'PROBE_PROTOCOLS']

#: Synthetic-probe protocols (see the module docstring).
PROBE_PROTOCOLS = ('zero_fill', 'crop')

_M64 = (1 << 64) - 1


def hash_uniform(seed: int, index: np.ndarray, stream: int,
                 dim: int) -> np.ndarray:
    """Deterministic uniforms in [0, 1): ``(len(index), dim)`` float64.

    Entry ``(i, d)`` is a pure function of ``(seed, index[i], stream, d)``:
    the SplitMix64 finaliser (Steele, Lea, Flood, OOPSLA 2014) of
    ``seed * c1 + index * c2 + stream * c3 + d * c4`` (64-bit wrap-around),
    top 53 bits / 2^53. Vectorised over the batch, so drawing the
    parameters of a batch costs microseconds, and independent of batch
    composition, order, process and rank.
    """
    with np.errstate(over='ignore'):
        idx = np.asarray(index, dtype=np.uint64).reshape(-1, 1)
        d = np.arange(dim, dtype=np.uint64).reshape(1, -1)
        x = (np.uint64(seed & _M64) * np.uint64(0x9E3779B97F4A7C15)
             + idx * np.uint64(0xBF58476D1CE4E5B9)
             + np.uint64(stream & _M64) * np.uint64(0x94D049BB133111EB)
             + d * np.uint64(0xD6E8FEB86659FD93))
        x ^= x >> np.uint64(30)
        x *= np.uint64(0xBF58476D1CE4E5B9)
        x ^= x >> np.uint64(27)
        x *= np.uint64(0x94D049BB133111EB)
        x ^= x >> np.uint64(31)
    return (x >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def _img_paths(data_samples, batch_size: int, num_views: int):
    """``keys[v][i]``: the name of view v of sample i, from ``img_path``
    (one path, or one path per view); None without paths."""
    if data_samples is None or len(data_samples) != batch_size:
        return None
    keys: List[List[str]] = [[] for _ in range(num_views)]
    for sample in data_samples:
        path = sample.get('img_path')
        if path is None:
            return None
        if isinstance(path, str):
            paths = [path] * num_views
            suffixes = [''] if num_views == 1 else [
                f'|view{v}' for v in range(num_views)]
        else:
            paths = list(path)
            if len(paths) != num_views:
                raise ValueError(
                    f'a data sample has {len(paths)} img_path entries for '
                    f'{num_views} views: {paths}')
            suffixes = [''] * num_views
        for v in range(num_views):
            keys[v].append(paths[v] + suffixes[v])
    return keys


@MODELS.register_module()
class ProbeDataPreprocessor(SelfSupDataPreprocessor):
    """Normalise the views of a probe batch and name them.

    Input from ``PackInputs`` + ``default_collate``: ``inputs`` is one
    uint8 tensor (B, 3, H, W) or a list of V of them; each data sample has
    ``img_path`` (a str, or a list of V str for pairs).

    Returns::

        {'inputs': {'views': [V float (B, 3, H, W)],
                    'keys': [V lists of B str] or None},
         'data_samples': data_samples}

    ``keys[v][i]`` is ``img_path[v]`` (pairs) or ``img_path`` (one view).
    With the probe's feature cache attached (:meth:`attach_cache`, done by
    :class:`~mmequi.models.classifiers.EquivarianceProbe`), a view whose
    features are all cached is not normalised: ``views[v]`` is None. Only the images are moved to the device (the
    probe moves the targets it reads). Arguments as mmpretrain's
    :class:`SelfSupDataPreprocessor` (mean / std in 0..255 units,
    ``to_rgb`` for BGR-loaded images); the views are
    ``(x01 * 255 - mean) / std`` (:attr:`pixels`, a
    :class:`~mmequi.param_transforms.PixelNormalizer` with
    ``value_max=255``, mmpretrain's convention: 0..255 without mean / std).
    """

    _cache = None

    def __init__(self,
                 mean: Optional[Sequence[Union[float, int]]] = None,
                 std: Optional[Sequence[Union[float, int]]] = None,
                 pad_size_divisor: int = 1,
                 pad_value: Union[float, int] = 0,
                 to_rgb: bool = False,
                 bgr_to_rgb: bool = False,
                 rgb_to_bgr: bool = False,
                 non_blocking: Optional[bool] = False) -> None:
        super().__init__(mean=mean, std=std,
                         pad_size_divisor=pad_size_divisor,
                         pad_value=pad_value, to_rgb=to_rgb,
                         bgr_to_rgb=bgr_to_rgb, rgb_to_bgr=rgb_to_bgr,
                         non_blocking=non_blocking)
        #: the ``[0, 1]`` <-> normalised conversion of every view
        self.pixels = PixelNormalizer(mean, std, value_max=255.0,
                                      bgr_to_rgb=self._channel_conversion)

    def attach_cache(self, cache) -> None:
        """The probe's :class:`~mmequi.models.utils.FeatureCache`."""
        self._cache = cache

    def _cached(self, keys, v: int, training: bool) -> bool:
        """Whether the features of view ``v`` of the whole batch are in the
        attached cache (and no verification is due)."""
        return keys is not None and self._cache is not None and \
            not self._cache.needs(keys[v], training)

    def _inputs(self, data: dict):
        if not isinstance(data, dict):
            raise TypeError('Please use default_collate in the dataloader '
                            f'(a dict), got {type(data)}')
        inputs = self.cast_data(data['inputs'])
        views = [inputs] if isinstance(inputs, torch.Tensor) else list(inputs)
        return views, data.get('data_samples')

    def forward(self, data: dict, training: bool = False) -> dict:
        views, samples = self._inputs(data)
        keys = _img_paths(samples, views[0].shape[0], len(views))
        out = [None if self._cached(keys, v, training) else
               self.pixels.normalize(self.pixels.to_unit(x))
               for v, x in enumerate(views)]
        return {'inputs': {'views': out, 'keys': keys},
                'data_samples': samples}


@MODELS.register_module()
class TransformProbeDataPreprocessor(ProbeDataPreprocessor):
    """Views ``[I, g_1(I), ..., g_T(I)]`` and their parameters as targets.

    For sample i with ``sample_idx`` s, family t (the t-th entry of
    ``transforms``) draws ``θ_t = low_t + (high_t - low_t) * u`` with
    ``u = hash_uniform(seed, s, t, dim_t)`` (a fixed function of
    ``(seed, s, t)``, vectorised over the batch), applies
    ``g_t`` to the image's [0, 1] pixels on the device (the batched kernels
    of :mod:`mmequi.param_transforms`) and normalises all
    views with ``mean`` / ``std``. Each data sample gets

    * ``theta_<name>``: θ_t in the family's units (degrees, pixels, ...),
      ``(dim_t,)``;
    * ``probe_<name>``: the regression target
      ``(θ_t - (low_t + high_t) / 2) / ((high_t - low_t) / 2)`` in [-1, 1]
      ``(dim_t,)`` (so that every dimension of e.g. colour's
      (brightness, contrast, saturation, hue) weighs the same in the MSE
      and in ``r2_sie``).

    View names (for the feature cache): ``img_path`` for I and
    ``img_path|<name>|<θ bytes in hex>`` for g_t(I) (under ``'crop'``
    with ``|crop<s>to<n>`` after ``img_path``: other pixels). With a cache attached
    (:meth:`attach_cache`, done by the probe), a transformed view whose
    features are all cached is not computed: ``views[t]`` is None.

    Args:
        transforms: ``{name: transform config}``, e.g.
            ``dict(rot=dict(type='rotation', max_angle=45.0),
            color=dict(type='color'), blur=dict(type='blur'),
            trans=dict(type='translation', max_shift=10.0))``.
        seed: seed of the per-sample parameter draws.
        protocol: ``'zero_fill'`` (the paper's) or ``'crop'`` (leak-free;
            see the module docstring).
        crop_size: ``'crop'`` only: the window side in input pixels; None
            (default): the largest leak-free window for the input size and
            all the families' ranges. A given size is checked per batch and
            refused if fill could enter it.
        out_size: ``'crop'`` only: side of the output views; None: the
            input's (shorter) side.
        mean, std, to_rgb, ...: as :class:`ProbeDataPreprocessor`.
    """

    def __init__(self, transforms: Dict[str, dict], seed: int = 0,
                 protocol: str = 'zero_fill',
                 crop_size: Optional[int] = None,
                 out_size: Optional[int] = None,
                 mean: Optional[Sequence[Union[float, int]]] = None,
                 std: Optional[Sequence[Union[float, int]]] = None,
                 to_rgb: bool = False, bgr_to_rgb: bool = False,
                 rgb_to_bgr: bool = False, non_blocking: bool = False
                 ) -> None:
        super().__init__(mean=mean, std=std, to_rgb=to_rgb,
                         bgr_to_rgb=bgr_to_rgb, rgb_to_bgr=rgb_to_bgr,
                         non_blocking=non_blocking)
        if not isinstance(transforms, dict) or not transforms:
            raise ValueError('transforms must be a non-empty dict '
                             f'{{name: transform config}}, got {transforms!r}')
        self.transforms = {name: build_param_transform(cfg)
                           for name, cfg in transforms.items()}
        for name, t in self.transforms.items():
            empty = np.flatnonzero(t.high <= t.low)
            if empty.size:
                raise ValueError(
                    f'transforms.{name}: parameter {int(empty[0])} has an '
                    f'empty range [{t.low[empty[0]]}, {t.high[empty[0]]}]; a '
                    'probe cannot predict a constant')
        self.seed = int(seed)
        if protocol not in PROBE_PROTOCOLS:
            raise ValueError(f'protocol={protocol!r}: choose from '
                             f'{PROBE_PROTOCOLS}')
        if protocol != 'crop' and (crop_size is not None
                                   or out_size is not None):
            raise ValueError(f'crop_size / out_size apply to '
                             f"protocol='crop', not {protocol!r}")
        for name, value in (('crop_size', crop_size),
                            ('out_size', out_size)):
            if value is not None and (not isinstance(value, int)
                                      or value < 1):
                raise ValueError(f'{name}={value!r} must be an int >= 1')
        self.protocol = protocol
        self.crop_size, self.out_size = crop_size, out_size
        self._logged_window = None

    def window(self, height: int, width: int):
        """``(crop_size, out_size)`` of the ``'crop'`` protocol for
        ``height x width`` inputs (checked to be leak-free)."""
        size = min(height, width)
        out = self.out_size or size
        extents = [t.max_extent() for t in self.transforms.values()]
        if self.crop_size is None:
            win = leak_free_window(size, out, extents)
        else:
            win = self.crop_size
            if not window_is_leak_free(size, win, out, extents):
                raise ValueError(
                    f'crop_size={win} lets zero fill into the views of '
                    f'{height}x{width} images with these ranges '
                    f'({list(self.transforms.values())}); the largest '
                    f'leak-free window is '
                    f'{leak_free_window(size, out, extents)}')
        if self._logged_window != (height, width, win, out):
            self._logged_window = (height, width, win, out)
            print_log(f'synthetic probe protocol "crop": the central '
                      f'{win}x{win} window of the {height}x{width} images, '
                      f'resampled to {out}x{out}, for every view',
                      logger='current')
        return win, out

    def draw(self, sample_idx) -> Dict[str, np.ndarray]:
        """θ of every family for a batch of sample indices (B,):
        ``{name: (B, dim) float32}``."""
        idx = np.asarray(sample_idx, dtype=np.int64).reshape(-1)
        out = {}
        for stream, (name, t) in enumerate(self.transforms.items()):
            u = hash_uniform(self.seed, idx, stream, t.dim)  # (B, dim)
            out[name] = t.from_unit(u).astype(np.float32)
        return out

    def target(self, name: str, theta: np.ndarray) -> np.ndarray:
        """θ of family ``name`` rescaled to [-1, 1] (float32)."""
        t = self.transforms[name]
        mid, half = (t.high + t.low) / 2, (t.high - t.low) / 2
        return ((theta - mid) / half).astype(np.float32)

    def forward(self, data: dict, training: bool = False) -> dict:
        views, samples = self._inputs(data)
        if len(views) != 1:
            raise ValueError('TransformProbeDataPreprocessor expects one '
                             f'image per sample, got {len(views)} views')
        b = views[0].shape[0]
        if samples is None or len(samples) != b:
            raise ValueError('TransformProbeDataPreprocessor needs one data '
                             f'sample per image ({b}) with sample_idx')
        x01 = self.pixels.to_unit(views[0])  # (B, 3, H, W) in [0, 1]
        for i, sample in enumerate(samples):
            if 'sample_idx' not in sample:
                raise KeyError(
                    f'data_samples[{i}] has no sample_idx (PackInputs keeps '
                    'it by default; do not drop it from meta_keys)')
        thetas = self.draw([s.sample_idx for s in samples])  # {name: (B, d)}
        targets = {name: self.target(name, th) for name, th in thetas.items()}
        for i, sample in enumerate(samples):
            sample.set_metainfo(dict(probe_protocol=self.protocol))
            for name in self.transforms:
                sample.set_field(thetas[name][i], f'theta_{name}')
                sample.set_field(targets[name][i], f'probe_{name}')
        window = None
        if self.protocol == 'crop':
            window = self.window(*x01.shape[-2:])
        keys = _img_paths(samples, b, 1)
        if keys is not None:
            base = keys[0]
            if window is not None:  # other pixels than the zero-fill views
                base = [f'{p}|crop{window[0]}to{window[1]}' for p in base]
            keys = [base] + [
                [f'{p}|{name}|{th.tobytes().hex()}'
                 for p, th in zip(base, thetas[name])]
                for name in self.transforms]
        views = [self.pixels.normalize(self.plain_view(x01, window))]
        for v, (name, t) in enumerate(self.transforms.items(), start=1):
            if self._cached(keys, v, training):
                views.append(None)  # all features cached
                continue
            theta = torch.from_numpy(thetas[name]).to(x01.device)
            views.append(self.pixels.normalize(
                self.transform_view(t, x01, theta, window)))
        return {'inputs': {'views': views, 'keys': keys},
                'data_samples': samples}

    @staticmethod
    def plain_view(x01: torch.Tensor, window) -> torch.Tensor:
        """The untransformed view I: the image itself in the zero-fill
        protocol; with a window ``(crop_size, out_size)``, its central
        window, resampled like the transformed views."""
        return x01 if window is None else se2_warp(x01, None, None, *window)

    @staticmethod
    def transform_view(t, x01: torch.Tensor, theta: torch.Tensor,
                       window) -> torch.Tensor:
        """g_θ(I) (B, 3, H, W) in the zero-fill protocol; with a window,
        its central window (B, 3, n, n): geometric families warp and crop
        in one resampling, the others change the pixels first."""
        if window is None:
            return t.apply(x01, theta)
        warp = t.warp(theta)
        if warp is None:
            return se2_warp(t.apply(x01, theta), None, None, *window)
        return se2_warp(x01, *warp, *window)
