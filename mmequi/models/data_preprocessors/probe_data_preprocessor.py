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
"""
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
import torch
from mmpretrain.models.utils.data_preprocessor import SelfSupDataPreprocessor
from mmpretrain.registry import MODELS

from ..utils.param_transforms import build_param_transform

__all__ = ['ProbeDataPreprocessor', 'TransformProbeDataPreprocessor']


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
    Arguments as mmpretrain's :class:`SelfSupDataPreprocessor` (mean / std
    in 0..255 units, ``to_rgb`` for BGR-loaded images).
    """

    def forward(self, data: dict, training: bool = False) -> dict:
        out = super().forward(data, training)
        views = out['inputs']
        if isinstance(views, torch.Tensor):
            views = [views]
        views = list(views)
        keys = _img_paths(out['data_samples'], views[0].shape[0], len(views))
        return {'inputs': {'views': views, 'keys': keys},
                'data_samples': out['data_samples']}


@MODELS.register_module()
class TransformProbeDataPreprocessor(ProbeDataPreprocessor):
    """Views ``[I, g_1(I), ..., g_T(I)]`` and their parameters as targets.

    For sample i with ``sample_idx`` s, family t (in the order of
    ``transforms``) draws ``θ_t ~ U(low_t, high_t)`` with
    ``np.random.default_rng([seed, s])`` (the families in order), applies
    ``g_t`` to the image's [0, 1] pixels on the device (the batched kernels
    of :mod:`mmequi.models.utils.param_transforms`) and normalises all
    views with ``mean`` / ``std``. Each data sample gets

    * ``theta_<name>``: θ_t in the family's units (degrees, pixels, ...),
      ``(dim_t,)``;
    * ``probe_<name>``: the regression target
      ``(θ_t - (low_t + high_t) / 2) / ((high_t - low_t) / 2)`` in [-1, 1]
      ``(dim_t,)`` (so that every dimension of e.g. colour's
      (brightness, contrast, saturation, hue) weighs the same in the MSE
      and in ``r2_sie``).

    View names (for the feature cache): ``img_path`` for I and
    ``img_path|<name>|<θ bytes in hex>`` for g_t(I).

    Args:
        transforms: ``{name: transform config}``, e.g.
            ``dict(rot=dict(type='rotation', max_angle=45.0),
            color=dict(type='color'), blur=dict(type='blur'),
            trans=dict(type='translation', max_shift=10.0))``.
        seed: seed of the per-sample parameter draws.
        mean, std, to_rgb, ...: as :class:`ProbeDataPreprocessor`.
    """

    def __init__(self, transforms: Dict[str, dict], seed: int = 0,
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

    def draw(self, sample_idx: int) -> Dict[str, np.ndarray]:
        """θ of every family for one sample: ``{name: (dim,) float32}``."""
        rng = np.random.default_rng([self.seed, int(sample_idx)])
        return {name: t.sample(1, rng)[0]
                for name, t in self.transforms.items()}

    def target(self, name: str, theta: np.ndarray) -> np.ndarray:
        """θ of family ``name`` rescaled to [-1, 1] (float32)."""
        t = self.transforms[name]
        mid, half = (t.high + t.low) / 2, (t.high - t.low) / 2
        return ((theta - mid) / half).astype(np.float32)

    def forward(self, data: dict, training: bool = False) -> dict:
        data = self.cast_data(data)
        img = data['inputs']
        if isinstance(img, (list, tuple)):
            if len(img) != 1:
                raise ValueError('TransformProbeDataPreprocessor expects one '
                                 f'image per sample, got {len(img)} views')
            img = img[0]
        samples = data.get('data_samples')
        b = img.shape[0]
        if samples is None or len(samples) != b:
            raise ValueError('TransformProbeDataPreprocessor needs one data '
                             f'sample per image ({b}) with sample_idx')
        if self._channel_conversion:
            img = img[:, [2, 1, 0], ...]
        x01 = img.float() / 255.0  # (B, 3, H, W) in [0, 1]
        thetas = {name: [] for name in self.transforms}
        for i, sample in enumerate(samples):
            if 'sample_idx' not in sample:
                raise KeyError(
                    f'data_samples[{i}] has no sample_idx (PackInputs keeps '
                    'it by default; do not drop it from meta_keys)')
            for name, theta in self.draw(sample.sample_idx).items():
                thetas[name].append(theta)
                sample.set_field(theta, f'theta_{name}')
                sample.set_field(self.target(name, theta), f'probe_{name}')
        views = [x01]
        for name, t in self.transforms.items():
            theta = torch.from_numpy(np.stack(thetas[name])).to(x01.device)
            views.append(t.apply(x01, theta))  # (B, 3, H, W)
        if self._enable_normalize:
            views = [(v * 255.0 - self.mean) / self.std for v in views]
        keys = _img_paths(samples, b, 1)
        if keys is not None:
            base = keys[0]
            keys = [base] + [
                [f'{p}|{name}|{th.tobytes().hex()}'
                 for p, th in zip(base, thetas[name])]
                for name in self.transforms]
        return {'inputs': {'views': views, 'keys': keys},
                'data_samples': samples}
