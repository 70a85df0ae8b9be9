"""Probes on a frozen backbone: relative 3D rotation, colour changes,
synthetic transformation parameters, classification.

Protocols:

* 3DIEBench (Garrido, Najman, LeCun, "Self-supervised learning of split
  invariant equivariant representations", ICML 2023, Sec. 5 and App.):
  the frozen representations of two views of an object are concatenated
  and an MLP ``2d -> 1024 -> 1024 -> out`` (ReLU) regresses the relative
  rotation (quaternion, out = 4) or the colour change (out = 2) with the
  MSE, Adam lr 1e-3; classification is a linear layer on one view.
* Synthetic transforms (Wang et al., AAAI-26, arXiv 2503.18753, Table 1):
  the same MLP on the features of ``(I, g_θ(I))`` predicts θ, one probe per
  family (rotation, colour, blur, translation).

One :class:`EquivarianceProbe` trains several such probes at once on the
same frozen features. Every task has its own head and its own loss term
(``loss_<task>``) and shares no parameter with another task, so the
gradients -- and with Adam the updates -- of each head are exactly those of
training it alone; only the backbone pass is shared (and cached).

Per batch (V views per sample, T tasks)::

    views (V, B, 3, H, W) --frozen backbone, no_grad--> f (V, B, C)
    task t with views (a, b):  x_t = [f_a ; f_b]          (B, 2C)
                               y_t = head_t(x_t)          (B, out_t)
    loss_t = MSE(y_t, target_t)     (regression)
           | CE(y_t, gt_label)      (classification)
"""
import logging
from typing import Dict, List, Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.logging import print_log
from mmengine.model import BaseModel
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from ...utils.checkpoint_io import (load_strict, read_checkpoint,
                                    select_weights)
from ...utils.labels import check_class_labels
from ..utils.feature_cache import FeatureCache
from ..utils.pooling import FEATURES, pool_features

__all__ = ['EquivarianceProbe']


def _check_task(name: str, task: dict, num_views: int) -> dict:
    task = dict(task)
    allowed = {'views', 'target', 'head', 'type', 'out_channels'}
    unknown = set(task) - allowed
    if unknown:
        raise KeyError(f'tasks.{name}: unknown keys {sorted(unknown)}; '
                       f'expected some of {sorted(allowed)}')
    kind = task.setdefault('type', 'regression')
    if kind not in ('regression', 'classification'):
        raise ValueError(f"tasks.{name}.type={kind!r}: choose 'regression' "
                         "or 'classification'")
    views = tuple(task.setdefault('views', (0, 1)))
    if not views or any(not 0 <= v < num_views for v in views):
        raise ValueError(f'tasks.{name}.views={views}: indices must be in '
                         f'0..{num_views - 1} (num_views={num_views})')
    task['views'] = views
    if 'target' not in task:
        raise KeyError(f'tasks.{name} needs "target": the data-sample field '
                       "holding its target (e.g. 'rot_quat', 'gt_label')")
    if 'head' not in task:
        raise KeyError(f'tasks.{name} needs "head" (e.g. '
                       "dict(type='MLPNeck', hidden_channels=1024, "
                       'out_channels=4, num_layers=3, norm_cfg=None))')
    return task


@MODELS.register_module()
class EquivarianceProbe(BaseModel):
    """Frozen backbone + independent probe heads (see the module docstring).

    Args:
        backbone: backbone config (e.g. the pretraining's ``iBOTViT`` or
            ``ResNet``); frozen (``requires_grad=False``, always in eval
            mode, run under ``torch.no_grad``).
        tasks: ``{name: dict(views=(a, b), target=field, head=cfg,
            out_channels=D, type='regression'|'classification')}``;
            ``head`` is a module config (e.g. ``MLPNeck``) whose
            ``in_channels`` is filled in (C times the number of views) and
            ``out_channels`` too if the task gives it; the regression
            target is the data sample's field ``target`` (``(D,)``);
            classification uses ``gt_label``.
        num_views: views per sample given by the data preprocessor.
        feature, channels: see :func:`~mmequi.models.utils.pooling.
            pool_features`; e.g. an SIE representation's invariant half is
            ``feature='gap', channels=(0, 256)``.
        neck, neck_prefix: an optional frozen projection head applied to
            the backbone output before pooling (loaded strictly from
            ``backbone_checkpoint`` with ``neck_prefix``, by default
            ``prefix`` with ``backbone.`` replaced by ``neck.``): the
            method's invariant / equivariant split lives in the head's
            output, e.g. ``neck=<the pretraining iBOTNeck>,
            feature='mean_patch', channels=(K - d_equi, K)`` probes the
            patch tokens' ``z_equi``.
        backbone_checkpoint: a checkpoint to load the backbone from when
            the weights are initialised (training), with ``prefix``
            (e.g. ``'teacher.backbone.'`` for iBOT, ``'backbone.'``).
            Loaded strictly: a missing backbone key is an error, and keys
            under the prefix that the backbone lacks are errors, except
            those in ``ignore_keys`` (default: iBOT's ``mask_token``),
            which may be absent on either side: an ``iBOTViT`` probe
            backbone loads a VICReg / SimCLR / CrossAttnRecon checkpoint
            (a plain ViT, no mask token) and keeps its own ``mask_token``,
            which a probe never uses (it masks nothing); the kept keys are
            logged.
        feature_dim: C; inferred with one dummy forward pass at
            ``dummy_size`` if None.
        input_norm: standardise each head's input with a BatchNorm
            without affine parameters (batch statistics in training, running
            statistics in evaluation), as MAE's linear probe; frozen
            features of a short pretraining are often far from unit scale,
            which slows an Adam-trained probe down. Defaults to False (SIE's
            protocol feeds the raw features).
        cache_features: cache the backbone features per view name
            (:class:`~mmequi.models.utils.FeatureCache`). Needs a
            deterministic pipeline (checked on the first hits).
        cache_dtype: ``'float32'`` or ``'float16'``.
        chunk_size: backbone batch size for feature extraction (None: all
            uncached views of a batch at once).
        data_preprocessor: :class:`ProbeDataPreprocessor` or
            :class:`TransformProbeDataPreprocessor` config.
    """

    def __init__(self, backbone: dict, tasks: Dict[str, dict],
                 num_views: int = 2, feature: str = 'cls',
                 channels: Optional[Sequence[int]] = None,
                 backbone_checkpoint: Optional[str] = None,
                 prefix: str = 'backbone.',
                 ignore_keys: Sequence[str] = ('mask_token', ),
                 neck: Optional[dict] = None,
                 neck_prefix: Optional[str] = None,
                 feature_dim: Optional[int] = None,
                 dummy_size: int = 224,
                 input_norm: bool = False,
                 cache_features: bool = False,
                 cache_dtype: str = 'float32',
                 chunk_size: Optional[int] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        if data_preprocessor is None:
            data_preprocessor = dict(type='ProbeDataPreprocessor')
        if isinstance(data_preprocessor, dict):  # mmpretrain's registry
            data_preprocessor = MODELS.build(data_preprocessor)
        super().__init__(data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)
        if feature not in FEATURES:
            raise ValueError(f'feature={feature!r}: choose from {FEATURES}')
        if not isinstance(tasks, dict) or not tasks:
            raise ValueError('tasks must be a non-empty dict {name: task}')
        self.backbone = MODELS.build(backbone)
        self.backbone.requires_grad_(False)
        self.backbone.eval()
        self.neck = MODELS.build(neck) if neck is not None else None
        if self.neck is not None:
            self.neck.requires_grad_(False)
            self.neck.eval()
        if neck_prefix is None and prefix.endswith('backbone.'):
            neck_prefix = prefix[:-len('backbone.')] + 'neck.'
        self.neck_prefix = neck_prefix
        self.feature = feature
        self.channels = tuple(channels) if channels is not None else None
        self.num_extra_tokens = getattr(self.backbone, 'num_extra_tokens', 1)
        self.num_views = int(num_views)
        self.backbone_checkpoint, self.prefix = backbone_checkpoint, prefix
        self.ignore_keys = tuple(ignore_keys)
        if feature_dim is None:
            feature_dim = self._infer_dim(dummy_size)
        self.feature_dim = int(feature_dim)
        self.tasks = {name: _check_task(name, t, self.num_views)
                      for name, t in tasks.items()}
        heads = {}
        for name, task in self.tasks.items():
            head = dict(task['head'])
            in_ch = self.feature_dim * len(task['views'])
            if head.setdefault('in_channels', in_ch) != in_ch:
                raise ValueError(
                    f"tasks.{name}.head.in_channels={head['in_channels']} "
                    f'but {len(task["views"])} view(s) x {self.feature_dim} '
                    f'features = {in_ch}')
            out_ch = task.get('out_channels')
            if out_ch is not None and head.setdefault(
                    'out_channels', out_ch) != out_ch:
                raise ValueError(
                    f"tasks.{name}: head.out_channels={head['out_channels']}"
                    f' but out_channels={out_ch}')
            heads[name] = MODELS.build(head)
        self.heads = nn.ModuleDict(heads)
        # MAE-style standardisation of each head's input (BN, no affine)
        self.input_norms = nn.ModuleDict({
            name: nn.BatchNorm1d(self.feature_dim * len(task['views']),
                                 affine=False, eps=1e-6)
            for name, task in self.tasks.items()}) if input_norm else None
        self.cache = FeatureCache(cache_dtype) if cache_features else None
        if hasattr(self.data_preprocessor, 'attach_cache'):
            # lets it skip making views whose features are cached
            self.data_preprocessor.attach_cache(self.cache)
        self.chunk_size = chunk_size

    # ----------------------------------------------------------- weights
    def _frozen_forward(self, images: torch.Tensor):
        out = self.backbone(images)
        if self.neck is not None:
            out = self.neck(out[-1] if isinstance(out, (tuple, list))
                            else out)
        return out

    @torch.no_grad()
    def _infer_dim(self, size: int) -> int:
        dummy = torch.zeros(1, 3, size, size)
        return pool_features(self._frozen_forward(dummy), self.feature,
                             self.num_extra_tokens, self.channels).shape[1]

    def init_weights(self) -> None:
        super().init_weights()
        if self.backbone_checkpoint is not None:
            self.load_backbone(self.backbone_checkpoint, self.prefix)
            if self.neck is not None:
                if self.neck_prefix is None:
                    raise ValueError('a probe neck needs neck_prefix (the '
                                     'checkpoint keys of the pretraining '
                                     'head, e.g. "teacher.neck.")')
                self.load_backbone(self.backbone_checkpoint,
                                   self.neck_prefix, module=self.neck)

    def load_backbone(self, checkpoint: str, prefix: str,
                      module: Optional[nn.Module] = None) -> None:
        """Load ``prefix``-ed weights of ``checkpoint`` into the backbone
        (or ``module``, e.g. the neck), strictly (see the class
        docstring and :mod:`mmequi.utils.checkpoint_io`)."""
        module = self.backbone if module is None else module
        state = select_weights(read_checkpoint(checkpoint), prefix,
                               file=checkpoint)
        # ignore_keys may be missing from the checkpoint too: keep the
        # module's own value (see the class docstring), and say so
        kept = sorted(k for k in module.state_dict()
                      if k in self.ignore_keys and k not in state)
        if kept:
            own = module.state_dict()
            state = dict(state, **{k: own[k] for k in kept})
            print_log(f'EquivarianceProbe: {checkpoint} (prefix {prefix!r}) '
                      f'has no {kept}; the probe {type(module).__name__} '
                      'keeps its own (unused by a probe: ignore_keys)',
                      logger='current')
        n = load_strict(module, state, file=checkpoint, prefix=prefix,
                        what=f'the probe {type(module).__name__}',
                        ignore_unexpected=self.ignore_keys)
        print_log(f'EquivarianceProbe: loaded {n} '
                  f'{"backbone" if module is self.backbone else "neck"} '
                  'tensors '
                  f'from {checkpoint} (prefix {prefix!r})', logger='current')

    def train(self, mode: bool = True) -> 'EquivarianceProbe':
        super().train(mode)
        self.backbone.eval()  # frozen: no dropout / BN updates
        if self.neck is not None:
            self.neck.eval()
        return self

    # ---------------------------------------------------------- features
    @torch.no_grad()
    def _backbone_features(self, images: torch.Tensor) -> torch.Tensor:
        step = self.chunk_size or images.shape[0]
        parts = [pool_features(self._frozen_forward(images[i:i + step]),
                               self.feature, self.num_extra_tokens,
                               self.channels)
                 for i in range(0, images.shape[0], step)]
        return torch.cat(parts).float()

    def extract_feat(self, inputs: dict) -> torch.Tensor:
        """Features ``(V, B, C)`` of the views of ``inputs`` (from the data
        preprocessor: ``dict(views=[V (B, 3, H, W)], keys=...)``)."""
        if not isinstance(inputs, dict) or 'views' not in inputs:
            raise TypeError('EquivarianceProbe expects inputs=dict(views=...,'
                            ' keys=...) from ProbeDataPreprocessor or '
                            'TransformProbeDataPreprocessor')
        views = inputs['views']
        if len(views) != self.num_views:
            raise ValueError(f'got {len(views)} views per sample, the probe '
                             f'has num_views={self.num_views}')
        v = len(views)
        if self.cache is None:
            feats = [self._backbone_features(x) for x in views]
            return torch.stack(feats)  # (V, B, C)
        if inputs.get('keys') is None:
            raise ValueError('cache_features=True needs view names: the '
                             'data samples carry no img_path')
        b = len(inputs['keys'][0])
        keys = [self.cache.full_key(k, self.training)
                for view_keys in inputs['keys']
                for k in view_keys]  # (V*B,) view-major
        hit, miss = self.cache.split(keys)
        device = next(self.backbone.parameters()).device
        out = torch.empty(v * b, self.feature_dim, device=device)

        def images(rows: List[int]) -> torch.Tensor:
            if any(views[i // b] is None for i in rows):
                raise RuntimeError('the data preprocessor skipped a view '
                                   'whose features are not cached')
            return torch.cat([views[i // b][i % b:i % b + 1] for i in rows])

        if miss:
            fresh = self._backbone_features(images(miss))
            out[miss] = fresh
            self.cache.put([keys[i] for i in miss], fresh)
        if hit:
            out[hit] = self.cache.get([keys[i] for i in hit], device)
            if self.cache.verify_batches > 0:
                self.cache.verify([keys[i] for i in hit],
                                  self._backbone_features(images(hit)))
        return out.unflatten(0, (v, b))  # (V, B, C)

    def _head_outputs(self, feats: torch.Tensor) -> Dict[str, torch.Tensor]:
        out = {}
        for name, task in self.tasks.items():
            x = torch.cat([feats[v] for v in task['views']], dim=-1)
            if self.input_norms is not None:
                x = self.input_norms[name](x)
            out[name] = self.heads[name](x)
        return out

    @staticmethod
    def _target(samples: List[DataSample], field: str, name: str,
                device) -> torch.Tensor:
        rows = []
        for i, s in enumerate(samples):
            if field not in s:
                raise KeyError(
                    f'task {name}: data_samples[{i}] has no "{field}"; add '
                    f"it to PackInputs(algorithm_keys=[...'{field}']) or use "
                    'a data preprocessor that sets it')
            rows.append(torch.as_tensor(s.get(field), dtype=torch.float32))
        return torch.stack(rows).reshape(len(samples), -1).to(device)

    @staticmethod
    def _labels(samples: List[DataSample], device) -> torch.Tensor:
        if any('gt_label' not in s for s in samples):
            raise KeyError('classification task: data samples have no '
                           'gt_label')
        return torch.cat([s.gt_label for s in samples]).to(device)

    # ------------------------------------------------------------ modes
    def forward(self, inputs, data_samples=None, mode: str = 'tensor'):
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return self._head_outputs(self.extract_feat(inputs))
        raise RuntimeError(f'Invalid mode "{mode}".')

    def loss(self, inputs: dict,
             data_samples: List[DataSample]) -> Dict[str, torch.Tensor]:
        outputs = self._head_outputs(self.extract_feat(inputs))
        losses = {}
        for name, task in self.tasks.items():
            y = outputs[name]  # (B, out)
            if task['type'] == 'classification':
                labels = self._labels(data_samples, y.device)
                check_class_labels(
                    labels, y.shape[1], f'classification task {name!r}',
                    f'model.tasks.{name}.out_channels')
                losses[f'loss_{name}'] = F.cross_entropy(y, labels)
            else:
                target = self._target(data_samples, task['target'], name,
                                      y.device)
                if target.shape != y.shape:
                    raise ValueError(
                        f'task {name}: head gives {tuple(y.shape[1:])} '
                        f'outputs, target "{task["target"]}" has '
                        f'{tuple(target.shape[1:])}')
                losses[f'loss_{name}'] = F.mse_loss(y, target)
        return losses

    def predict(self, inputs: dict,
                data_samples: Optional[List[DataSample]] = None
                ) -> List[DataSample]:
        outputs = self._head_outputs(self.extract_feat(inputs))
        b = next(iter(outputs.values())).shape[0]
        if data_samples is None:
            data_samples = [DataSample() for _ in range(b)]
        first_cls = True
        for name, task in self.tasks.items():
            y = outputs[name].detach()
            if task['type'] == 'classification':
                score = F.softmax(y, dim=1)
                for s, row in zip(data_samples, score):
                    s.set_field(row, f'pred_{name}')
                    if first_cls:  # mmpretrain's Accuracy reads these
                        s.set_pred_score(row).set_pred_label(row.argmax())
                first_cls = False
            else:
                target = self._target(data_samples, task['target'], name,
                                      y.device)
                for s, row, t in zip(data_samples, y, target):
                    s.set_field(row, f'pred_{name}')
                    s.set_field(t, f'gt_{name}')
        if self.cache is not None and not self.training:
            stats = self.cache.stats()
            if stats and self.cache.misses == 0:
                print_log(f'feature cache: {stats}', logger='current',
                          level=logging.DEBUG)
        return data_samples
