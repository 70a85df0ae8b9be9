"""Probe the representation while it is being pretrained.

Every ``interval`` epochs (or iterations) :class:`OnlineProbeHook` embeds
two small labelled sets -- "probe-train" and "probe-val", e.g. evenly
spaced subsets of the train and val splits -- with the frozen backbone
(the EMA teacher if the model has one, as DINO/iBOT evaluate, else the
student) and reports, on the probe-val set:

* ``online_probe/linear_top1`` / ``linear_top5``: a linear classifier of
  its own (``nn.Linear``, zero-initialised, on the standardised detached
  features; its own optimiser, default AdamW) trained ``epochs`` passes
  over the cached probe-train features;
* ``online_probe/knn_top1`` / ``knn_top5``: the weighted k-NN classifier
  of DINO/iBOT (k = 20, T = 0.07; :func:`~mmequi.evaluation.metrics.knn.
  knn_classify`) with the probe-train features as the bank;
* ``online_probe/r2_<protocol>_<name>`` (optional): how well the transformation
  parameter θ of a synthetic transform g_θ (default: rotation in
  [-45°, 45°]) is linearly decodable from the pair ``[f(I); f(g_θ(I))]``
  -- the synthetic-transform protocol of Wang et al. (AAAI-26, arXiv
  2503.18753, Table 1) with a closed-form ridge regression instead of the
  paper's trained MLP (no optimiser, a few ms; a cheap progress signal,
  not the paper's number). θ is drawn per sample from
  ``(seed, sample_idx)`` with the kernels of
  :class:`~mmequi.models.data_preprocessors.TransformProbeDataPreprocessor`
  (same ranges, same [-1, 1] target scaling, same protocols: ``'crop'``,
  the default, is leak-free; ``'zero_fill'`` is the paper's, whose fill
  region gives θ away) and scored with ``r2_sie``
  (:mod:`mmequi.evaluation.metrics.equivariance_r2`; for a 1-d θ it equals
  ``r2_mean``).

The numbers go to the training log (one line per probe), to the
visualiser's backends (``vis_data/scalars.json``, TensorBoard, ...) at the
current iteration, and to the message hub (``runner.message_hub.
get_scalar('online_probe/knn_top1')``).

What it does not touch: the model's parameters and buffers (no gradient,
eval mode; every module's ``training`` flag is restored), the optimiser and
its state, the gradients, and the random streams of training: Python's
``random``, numpy's and torch's (CPU and every CUDA device) generator
states are saved before and restored after the probe (creating a
dataloader iterator alone draws from torch's generator), and the probe's
own randomness (the linear probe's batch order) comes from a private
``torch.Generator``. A run with the hook trains bit-identically to one
without it.

Distributed: every rank runs the hook at the same point; each rank embeds
its shard of the probe loaders (their ``DefaultSampler``), the features
are all-gathered in dataset order (duplicates of the sampler's padding
dropped, :func:`~mmequi.engine.runner.feature_gather.gather_by_index`),
and every rank fits the same small heads on the same features with the
same seed (cheap; no further communication); rank 0 logs.

Cost per probe (bounded by the two set sizes, capped with
``num_train_samples`` / ``num_val_samples``): ``(N_train + N_val) x
(1 + number of transforms)`` backbone forward passes without gradient,
spread over the ranks, plus head fitting on cached features:
``epochs x N_train / batch_size`` steps of one linear layer, one
``N_val x N_train`` similarity matrix, one ``2D x 2D`` linear solve per
transform. E.g. ViT-S/16 at 224 px, 10 k + 5 k images, rotation on:
30 k forward passes, well under a minute on 8 GPUs. The log line reports
the seconds each probe took.
"""
import contextlib
import copy
import time
from typing import Dict, Iterator, List, Optional, Sequence

import numpy as np
import torch
import torch.nn as nn
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.runner.amp import autocast
from mmpretrain.registry import DATASETS, HOOKS, MODELS

from ...evaluation.functional import fit_linear_probe, ridge_r2
from ...evaluation.metrics.knn import knn_classify, topk_accuracy
from ...models.data_preprocessors.probe_data_preprocessor import \
    TransformProbeDataPreprocessor
from ...models.utils.pooling import FEATURES, pool_features
from ...param_transforms import PixelNormalizer
from ...utils.rng import preserved_rng
from ..runner.feature_gather import extract_features

__all__ = ['OnlineProbeHook', 'preserved_rng', 'evenly_spaced']

IMAGENET_MEAN = [123.675, 116.28, 103.53]
IMAGENET_STD = [58.395, 57.12, 57.375]


@contextlib.contextmanager
def _preserved_modes(module: nn.Module) -> Iterator[None]:
    """Restore every submodule's ``training`` flag on exit (without calling
    ``train()``, which models may override)."""
    flags = [(m, m.training) for m in module.modules()]
    try:
        yield
    finally:
        for m, flag in flags:
            m.training = flag


def evenly_spaced(length: int, num: Optional[int]) -> Optional[List[int]]:
    """``num`` indices spread evenly over ``range(length)`` (None: all).
    On class-sorted lists (ImageNet's) every class keeps its share."""
    if num is None or num >= length:
        return None
    if num < 1:
        raise ValueError(f'need at least 1 sample, got {num}')
    return sorted({int(i) for i in np.linspace(0, length - 1, num).round()})


@HOOKS.register_module()
class OnlineProbeHook(Hook):
    """Linear probe, k-NN and equivariance R² during pretraining (module
    docstring).

    Args:
        train_dataloader / val_dataloader: dataloader configs of the
            labelled probe-train / probe-val sets (an evaluation pipeline
            without random augmentation, e.g. ``LoadImageFromFile``,
            ``ResizeEdge``, ``CenterCrop``, ``PackInputs``; a
            ``DefaultSampler``; any collate). Built at the first probe.
        interval: probe every ``interval`` epochs (``by_epoch=True``, after
            the epoch) or training iterations.
        by_epoch: see ``interval``.
        num_train_samples / num_val_samples: keep only so many evenly
            spaced samples of each set (:func:`evenly_spaced`); None: all.
        source: ``'auto'`` (``model.teacher.backbone`` if the model has an
            EMA teacher, else ``model.backbone``), ``'teacher'`` or
            ``'student'``.
        feature: read-out of the backbone output
            (:func:`~mmequi.models.utils.pooling.pool_features`):
            ``'auto'`` = [CLS] of a ViT token output (after the final norm
            for :class:`iBOTViT`), global average pool of a CNN feature
            map.
        data_preprocessor: config of the probe's own preprocessing (the
            pretraining one expects multi-crop views); default mmpretrain
            ``ClsDataPreprocessor`` with ImageNet mean/std and BGR -> RGB
            (images decoded by ``LoadImageFromFile``).
        linear: ``dict(epochs, batch_size, optimizer)`` of
            :func:`~mmequi.evaluation.functional.fit_linear_probe`, or None
            to skip.
        knn: ``dict(k, temperature)`` of :func:`knn_classify` (k is capped
            at the probe-train size), or None to skip.
        equivariance: ``dict(transforms={name: g config}, alpha, seed,
            protocol)``; ``g`` as
            :func:`~mmequi.param_transforms.build_param_transform` (default
            ``rot``: rotation ±45°), ``alpha`` of :func:`~mmequi.evaluation.
            functional.ridge_r2`, ``protocol``
            ``'crop'`` (default, leak-free) or ``'zero_fill'``; or None to
            skip.
        topk: reported top-m accuracies.
        amp_dtype: None (float32), ``'float16'`` or ``'bfloat16'`` autocast
            of the probe's forward passes.
        seed: seed of the linear probe's batch order.
        prefix: key prefix of the results.
    """

    priority = 'LOW'

    def __init__(self,
                 train_dataloader: dict,
                 val_dataloader: dict,
                 interval: int = 1,
                 by_epoch: bool = True,
                 num_train_samples: Optional[int] = None,
                 num_val_samples: Optional[int] = None,
                 source: str = 'auto',
                 feature: str = 'auto',
                 data_preprocessor: Optional[dict] = None,
                 linear: Optional[dict] = dict(
                     epochs=100, batch_size=256,
                     optimizer=dict(type='AdamW', lr=1e-3,
                                    weight_decay=1e-4)),
                 knn: Optional[dict] = dict(k=20, temperature=0.07),
                 equivariance: Optional[dict] = dict(
                     transforms=dict(rot=dict(type='rotation',
                                              max_angle=45.0)),
                     alpha=1.0, seed=0, protocol='crop'),
                 topk: Sequence[int] = (1, 5),
                 amp_dtype: Optional[str] = None,
                 seed: int = 0,
                 prefix: str = 'online_probe') -> None:
        for name, cfg in (('train_dataloader', train_dataloader),
                          ('val_dataloader', val_dataloader)):
            if not isinstance(cfg, dict) or 'dataset' not in cfg:
                raise TypeError(f'OnlineProbeHook.{name} must be a '
                                'dataloader config dict with a dataset, got '
                                f'{cfg!r}')
        if interval < 1:
            raise ValueError(f'OnlineProbeHook: interval={interval} < 1')
        if source not in ('auto', 'teacher', 'student'):
            raise ValueError(f'OnlineProbeHook: source={source!r}, choose '
                             "'auto', 'teacher' or 'student'")
        if feature not in FEATURES:
            raise ValueError(f'OnlineProbeHook: feature={feature!r}, choose '
                             f'from {FEATURES}')
        if amp_dtype not in (None, 'float16', 'bfloat16'):
            raise ValueError(f'OnlineProbeHook: amp_dtype={amp_dtype!r}')
        if linear is None and knn is None and equivariance is None:
            raise ValueError('OnlineProbeHook: linear, knn and equivariance '
                             'are all None: nothing to probe')
        self.loader_cfgs = dict(train=copy.deepcopy(train_dataloader),
                                val=copy.deepcopy(val_dataloader))
        self.num_samples = dict(train=num_train_samples,
                                val=num_val_samples)
        self.interval, self.by_epoch = int(interval), bool(by_epoch)
        self.source, self.feature = source, feature
        self.pre_cfg = data_preprocessor or dict(
            type='ClsDataPreprocessor', mean=IMAGENET_MEAN, std=IMAGENET_STD,
            to_rgb=True)
        # the transformed views are normalised like the preprocessor's own
        # output, (x - mean) / std on 0..255 values (mmpretrain's convention)
        self._pixels = PixelNormalizer(self.pre_cfg.get('mean'),
                                       self.pre_cfg.get('std'),
                                       value_max=255.0)
        self.linear = self._check_keys('linear', linear,
                                       {'epochs', 'batch_size', 'optimizer'})
        self.knn = self._check_keys('knn', knn, {'k', 'temperature'})
        self.equivariance = self._check_keys(
            'equivariance', equivariance,
            {'transforms', 'alpha', 'seed', 'protocol'})
        self.transforms, self._theta_source = {}, None
        if self.equivariance is not None:
            transforms = self.equivariance.get('transforms')
            if not isinstance(transforms, dict) or not transforms:
                raise ValueError('OnlineProbeHook: equivariance.transforms '
                                 'must be a non-empty dict {name: config}')
            # used for its per-sample θ draws, target scaling and kernels
            # only (same θ as the synthetic-transform probe benchmark with
            # the same seed and transforms)
            self._theta_source = TransformProbeDataPreprocessor(
                transforms={k: dict(v) for k, v in transforms.items()},
                seed=int(self.equivariance.get('seed', 0)),
                protocol=self.equivariance.get('protocol', 'crop'))
            self.transforms = self._theta_source.transforms
        self.topk = tuple(int(m) for m in topk)
        self.amp_dtype, self.seed, self.prefix = amp_dtype, int(seed), prefix
        self._loaders: Optional[Dict[str, object]] = None
        self._pre: Optional[nn.Module] = None
        self._restore_rng = True  # tests switch it off to see it matter
        self.last_results: Dict[str, float] = {}

    @staticmethod
    def _check_keys(name: str, cfg: Optional[dict],
                    allowed: set) -> Optional[dict]:
        if cfg is None:
            return None
        unknown = set(cfg) - allowed
        if unknown:
            raise KeyError(f'OnlineProbeHook.{name}: unknown keys '
                           f'{sorted(unknown)}; expected some of '
                           f'{sorted(allowed)}')
        return dict(cfg)

    # --------------------------------------------------------- triggers
    def after_train_epoch(self, runner) -> None:
        if self.by_epoch and self.every_n_epochs(runner, self.interval):
            self.probe(runner, step=runner.iter)

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs=None) -> None:
        if not self.by_epoch and self.every_n_train_iters(runner,
                                                          self.interval):
            self.probe(runner, step=runner.iter + 1)

    # ------------------------------------------------------------ parts
    def _backbone(self, runner) -> nn.Module:
        model = runner.model
        if is_model_wrapper(model):
            model = model.module
        teacher = getattr(model, 'teacher', None)
        if teacher is not None and not isinstance(teacher, nn.Module):
            teacher = None
        t_backbone = None
        if teacher is not None:
            t_backbone = (teacher['backbone'] if isinstance(
                teacher, nn.ModuleDict) and 'backbone' in teacher else
                getattr(teacher, 'backbone', None))
        if self.source == 'teacher' or (self.source == 'auto'
                                        and t_backbone is not None):
            if t_backbone is None:
                raise AttributeError(f'OnlineProbeHook(source="teacher"): '
                                     f'{type(model).__name__} has no '
                                     'teacher.backbone')
            return t_backbone
        if not isinstance(getattr(model, 'backbone', None), nn.Module):
            raise AttributeError(f'OnlineProbeHook: {type(model).__name__} '
                                 'has no backbone')
        return model.backbone

    def _build_loaders(self, runner) -> Dict[str, object]:
        loaders = {}
        for split, cfg in self.loader_cfgs.items():
            cfg = copy.deepcopy(cfg)
            dataset = cfg['dataset']
            if isinstance(dataset, dict):
                dataset = DATASETS.build(dataset)
            subset = evenly_spaced(len(dataset), self.num_samples[split])
            if subset is not None:
                if not hasattr(dataset, 'get_subset_'):
                    raise TypeError(
                        f'OnlineProbeHook: num_{split}_samples needs an '
                        f'mmengine BaseDataset, got {type(dataset).__name__}')
                dataset.get_subset_(subset)
            cfg['dataset'] = dataset
            loaders[split] = runner.build_dataloader(cfg, seed=runner.seed)
        return loaders

    def _forward(self, backbone: nn.Module, pre: nn.Module):
        dtype = getattr(torch, self.amp_dtype) if self.amp_dtype else None
        extra = getattr(backbone, 'num_extra_tokens', 1)

        def embed(x: torch.Tensor) -> torch.Tensor:
            with autocast(enabled=dtype is not None, dtype=dtype):
                out = backbone(x)
            return pool_features(out, self.feature, extra).float()

        def forward(data_batch: dict) -> torch.Tensor:
            data = pre(data_batch, False)
            x = data['inputs']
            if not self.transforms:
                return embed(x)
            src = self._theta_source
            x01 = self._pixels.denormalize(x)
            window = src.window(*x01.shape[-2:]) \
                if src.protocol == 'crop' else None
            feats = [embed(x)]
            if window is not None:  # the plain view through the window
                feats.append(embed(self._pixels.normalize(
                    src.plain_view(x01, window))))
            thetas = src.draw([s.metainfo['sample_idx']
                               for s in data_batch['data_samples']])
            for name, t in self.transforms.items():
                theta = torch.from_numpy(thetas[name]).to(x.device)
                gx = src.transform_view(t, x01, theta, window)
                feats.append(embed(self._pixels.normalize(gx)))
            return torch.cat(feats, dim=1)

        return forward

    # ------------------------------------------------------------ probe
    def probe(self, runner, step: int) -> Dict[str, float]:
        """Run all probes now; log and return ``{key: value}``."""
        start = time.time()
        rng = preserved_rng() if self._restore_rng else \
            contextlib.nullcontext()
        backbone = self._backbone(runner)
        with rng, _preserved_modes(runner.model):
            results, sizes = self._probe(runner, backbone)
        results = {f'{self.prefix}/{k}': v for k, v in results.items()}
        for key, value in results.items():
            runner.message_hub.update_scalar(key, value)
        runner.visualizer.add_scalars(results, step=step)
        where = (f'epoch {runner.epoch + 1}' if self.by_epoch else
                 f'iter {step}')
        runner.logger.info(
            f'Online probe ({where}; {sizes[0]} probe-train / {sizes[1]} '
            f'probe-val images, {time.time() - start:.1f} s): ' +
            '  '.join(f'{k}: {v:.4f}' if 'r2' in k else f'{k}: {v:.2f}'
                      for k, v in results.items()))
        self.last_results = results
        return results

    def _probe(self, runner, backbone: nn.Module):
        if self._loaders is None:
            self._loaders = self._build_loaders(runner)
        device = next(backbone.parameters()).device
        if self._pre is None:
            self._pre = MODELS.build(copy.deepcopy(self.pre_cfg))
        pre = self._pre.to(device)
        self._pixels.to(device)
        backbone.eval()
        forward = self._forward(backbone, pre)
        tr_all, tr_y = extract_features(self._loaders['train'], forward,
                                        'online probe-train features')
        va_all, va_y = extract_features(self._loaders['val'], forward,
                                        'online probe-val features')
        # [f(I), (f(window of I) under 'crop'), f(g_1(I)), ...]
        crop = bool(self.transforms) and self._theta_source.protocol == 'crop'
        parts = 1 + int(crop) + len(self.transforms)
        dim = tr_all.shape[1] // parts
        ref = slice(dim, 2 * dim) if crop else slice(0, dim)
        tr_f, va_f = tr_all[:, :dim], va_all[:, :dim]
        classes = (getattr(self._loaders['val'].dataset, 'metainfo', None)
                   or {}).get('classes')
        num_classes = max(int(tr_y.max()), int(va_y.max())) + 1
        if classes:
            num_classes = max(num_classes, len(classes))
        results: Dict[str, float] = {}
        if self.linear is not None:
            acc = fit_linear_probe(
                tr_f, tr_y, va_f, va_y, num_classes,
                epochs=int(self.linear.get('epochs', 100)),
                batch_size=int(self.linear.get('batch_size', 256)),
                optimizer=self.linear.get('optimizer'), seed=self.seed,
                topk=self.topk)
            results.update({f'linear_top{m}': v for m, v in acc.items()})
        if self.knn is not None:
            k = min(int(self.knn.get('k', 20)), tr_f.shape[0])
            votes = knn_classify(
                tr_f, tr_y, va_f, k=k,
                temperature=float(self.knn.get('temperature', 0.07)),
                num_classes=num_classes)
            acc = topk_accuracy(votes, va_y, self.topk)
            results.update({f'knn_top{m}': v for m, v in acc.items()})
        for part, name in enumerate(self.transforms, 1 + int(crop)):
            cols = slice(part * dim, (part + 1) * dim)
            targets = []  # rows are in dataset order: sample_idx = row
            for n in (tr_f.shape[0], va_f.shape[0]):
                theta = self._theta_source.draw(np.arange(n))[name]
                targets.append(torch.from_numpy(
                    self._theta_source.target(name, theta)))
            protocol = self._theta_source.protocol
            results[f'r2_{protocol}_{name}'] = ridge_r2(
                torch.cat([tr_all[:, ref], tr_all[:, cols]], 1), targets[0],
                torch.cat([va_all[:, ref], va_all[:, cols]], 1), targets[1],
                alpha=float(self.equivariance.get('alpha', 1.0)))
        return results, (tr_f.shape[0], va_f.shape[0])
