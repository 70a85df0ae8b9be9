"""k-NN evaluation as an mmengine test loop (DINO / iBOT protocol).

Caron et al., "Emerging Properties in Self-Supervised Vision Transformers",
ICCV 2021, Sec. 4 / ``eval_knn.py``; Zhou et al., "iBOT", ICLR 2022: the
frozen (teacher) backbone embeds the train split (the "bank") and the
validation split with the evaluation pipeline (resize 256 bicubic, centre
crop 224), both are L2-normalised, and every validation image is classified
by the weighted vote of its k = 20 most cosine-similar train images
(weights ``exp(sim / 0.07)``; :mod:`mmequi.evaluation.metrics.knn`).

Why a loop: an mmengine metric only sees the test batches, the k-NN
classifier needs the train features too. Config::

    test_dataloader = dict(...val split, eval pipeline...)
    test_evaluator = dict(type='KNNAccuracy', k=20, temperature=0.07,
                          topk=(1, 5))
    test_cfg = dict(type='KNNTestLoop',
                    bank_dataloader=dict(...train split, eval pipeline...),
                    load_backbone='teacher')

and ``tools/test.py CONFIG CKPT [--metrics-out m.json]`` returns and writes
``knn/top1`` / ``knn/top5`` (percent).

Per run: model in eval mode, no gradients; every rank extracts the
features of its shard of the bank and of the test set; the shards are
all-gathered in dataset order (the DefaultSampler padding removed;
:func:`~mmequi.engine.runner.feature_gather.gather_by_index`), normalised
in place, and each rank classifies the test rows ``rank::world_size``
against the whole bank in chunks of ``chunk_size`` queries (the similarity
matrix is never ``M x N``); the hit counts are all-reduced. Memory per
rank: the bank (ImageNet-1k, 1.28 M x 384 float32 for the ViT-S [CLS]
feature = 2 GB; 1536-d = 7.9 GB) about twice during the gather, plus
``chunk_size x N`` similarities (256 x 1.28 M = 1.3 GB).
"""
import os.path as osp
from typing import Dict, Optional, Union

import torch
from mmengine.dist import get_rank, get_world_size, is_main_process
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.runner import BaseLoop
from mmengine.runner.amp import autocast
from mmpretrain.registry import LOOPS
from torch.utils.data import DataLoader

from ...evaluation.metrics.knn import KNNAccuracy
from ...models.utils.pooling import FEATURES, pool_features
from ...models.utils.vit_convert import extract_backbone
from ...utils.checkpoint_io import (CheckpointMismatchError, check_keys,
                                    load_strict, read_checkpoint,
                                    select_weights)
from .feature_gather import extract_features

__all__ = ['KNNTestLoop']

BACKBONE_SOURCES = ('teacher', 'student', None)


@LOOPS.register_module()
class KNNTestLoop(BaseLoop):
    """Extract bank (train) and test features with the frozen model and
    evaluate the ``KNNAccuracy`` metrics of ``test_evaluator`` on them.

    Args:
        runner, dataloader, evaluator: given by the runner (the test
            dataloader and ``test_evaluator``); every metric of the
            evaluator must be a :class:`KNNAccuracy`.
        bank_dataloader: dataloader config (or object) of the labelled
            train split, with the same evaluation pipeline as the test set.
        feature: how a feature vector is read off
            ``model.extract_feat(inputs)``
            (:func:`~mmequi.models.utils.pooling.pool_features`):
            ``'auto'`` passes a (B, D) output (e.g. mmpretrain's
            ``VisionTransformer(out_type='cls_token')``) through, takes the
            [CLS] token of a token output, global-average-pools a feature
            map.
        load_backbone: ``'teacher'`` or ``'student'``: read the checkpoint
            the runner was given (``load_from``, i.e. tools/test.py's CKPT)
            with :func:`~mmequi.models.utils.vit_convert.extract_backbone`
            (our pretraining checkpoints, official iBOT/DINO checkpoints,
            backbone exports, timm ViTs) and load it into
            ``model.backbone`` strictly (missing or unexpected keys are an
            error; the position embedding is resized by mmpretrain's ViT if
            the grid differs). mmengine's own ``load_from`` loading is
            non-strict and knows none of these layouts, so it is not relied
            on (the loop takes ``load_from`` over from the runner). ``None``:
            keep the runner's loading and only check that
            every ``backbone.*`` key of the model was in the checkpoint
            (for classifier checkpoints, non-ViT backbones).
        amp_dtype: ``None`` (float32, as ``eval_knn.py``), ``'float16'`` or
            ``'bfloat16'`` autocast for the forward passes (features are
            stored as float32 either way).
        dump_features: optional path (``.pth``); rank 0 saves
            ``dict(bank_feats, bank_labels, test_feats, test_labels)``
            (un-normalised, CPU) there, as ``eval_knn.py
            --dump_features``.
        log_interval: progress log every so many batches.
    """

    def __init__(self, runner, dataloader: Union[DataLoader, Dict],
                 evaluator, bank_dataloader: Union[DataLoader, Dict],
                 feature: str = 'auto',
                 load_backbone: Optional[str] = 'teacher',
                 amp_dtype: Optional[str] = None,
                 dump_features: Optional[str] = None,
                 log_interval: int = 50) -> None:
        super().__init__(runner, dataloader)
        if isinstance(evaluator, (dict, list)):
            evaluator = runner.build_evaluator(evaluator)
        self.evaluator = evaluator
        bad = [type(m).__name__ for m in evaluator.metrics
               if not isinstance(m, KNNAccuracy)]
        if bad or not evaluator.metrics:
            raise TypeError(
                f'KNNTestLoop evaluates only KNNAccuracy metrics; '
                f'test_evaluator has {bad or "none"}. Use test_evaluator='
                "dict(type='KNNAccuracy', k=20, temperature=0.07)")
        if feature not in FEATURES:
            raise ValueError(f'KNNTestLoop: feature={feature!r}, choose from '
                             f'{FEATURES}')
        if load_backbone not in BACKBONE_SOURCES:
            raise ValueError(f'KNNTestLoop: load_backbone={load_backbone!r}, '
                             f'choose from {BACKBONE_SOURCES}')
        if amp_dtype not in (None, 'float16', 'bfloat16'):
            raise ValueError(f'KNNTestLoop: amp_dtype={amp_dtype!r}, choose '
                             "None, 'float16' or 'bfloat16'")
        if dump_features is not None and not dump_features.endswith('.pth'):
            raise ValueError(f'KNNTestLoop: dump_features={dump_features!r} '
                             'must end with .pth')
        self.feature, self.load_backbone = feature, load_backbone
        # The runner builds the test loop before it loads ``load_from``
        # (Runner.test: build_test_loop -> before_run -> load_or_resume ->
        # run); take the checkpoint over so that mmengine's non-strict load
        # (and its missing-key warnings for layouts it cannot read) is not
        # run; ``load_backbone=None`` keeps it.
        self.checkpoint = runner._load_from or runner.cfg.get('load_from')
        if load_backbone is not None:
            runner._load_from = None
        self.amp_dtype, self.dump_features = amp_dtype, dump_features
        self.log_interval = int(log_interval)
        if isinstance(bank_dataloader, dict):
            bank_dataloader = runner.build_dataloader(
                bank_dataloader, seed=runner.seed)
        self.bank_dataloader = bank_dataloader
        meta = getattr(self.dataloader.dataset, 'metainfo', None)
        if meta is not None:
            self.evaluator.dataset_meta = meta

    # ----------------------------------------------------------- weights
    def _model(self):
        model = self.runner.model
        return model.module if is_model_wrapper(model) else model

    def _checkpoint_path(self) -> str:
        path = self.checkpoint
        if not path:
            raise ValueError(
                'KNNTestLoop needs a checkpoint: run tools/test.py CONFIG '
                'CKPT (or set load_from)')
        return path

    def _load_backbone(self, model) -> None:
        path = self._checkpoint_path()
        if not hasattr(model, 'backbone'):
            raise AttributeError(f'{type(model).__name__} has no backbone to '
                                 'load the checkpoint into')
        ckpt = read_checkpoint(path)
        if self.load_backbone is None:
            self._check_runner_loading(path, ckpt, model)
            return
        try:
            state, info = extract_backbone(ckpt, source=self.load_backbone,
                                           name=path)
        except KeyError as err:
            why = err.args[0] if err.args else repr(err)
            raise CheckpointMismatchError(
                f'{why} (KNNTestLoop: choose the backbone with --cfg-options '
                'test_cfg.load_backbone=student|teacher)') from err
        except ValueError as err:  # not a ViT state dict
            raise ValueError(f'{path}: {err} (KNNTestLoop: for a non-ViT '
                             'backbone whose checkpoint keys already match '
                             'the model, set test_cfg.load_backbone=None)'
                             ) from err
        # mmpretrain's ViT resizes pos_embed to its grid on load
        n = load_strict(model.backbone, state, file=path,
                        what=f'model.backbone '
                        f'({type(model.backbone).__name__}; '
                        f'{info["layout"]}, {self.load_backbone})',
                        resizable=('pos_embed', ))
        print_log(f'KNNTestLoop: loaded the {self.load_backbone} backbone '
                  f'({n} tensors, {info["layout"]}) from {path}; '
                  f'dropped {info["dropped_keys"]}', logger='current')

    @staticmethod
    def _check_runner_loading(path: str, ckpt, model) -> None:
        """``load_backbone=None``: every ``backbone.*`` tensor of the model
        must be in the checkpoint (the runner loads it non-strictly)."""
        hint = ('load_backbone=None keeps the runner\'s non-strict loading, '
                'which would evaluate a partly random backbone. Use '
                "load_backbone='teacher' or 'student' for pretraining "
                'checkpoints and backbone exports')
        state = select_weights(ckpt, 'backbone.', file=path, hint=hint)
        check_keys(model.backbone.state_dict(), state, file=path,
                   what=f'model.backbone ({type(model.backbone).__name__})',
                   prefix='backbone.', allow_unexpected=True,
                   resizable=('pos_embed', ), hint=hint)

    # ---------------------------------------------------------- features
    def _forward(self, model):
        dtype = getattr(torch, self.amp_dtype) if self.amp_dtype else None

        def forward(data_batch: dict) -> torch.Tensor:
            data = model.data_preprocessor(data_batch, False)
            with autocast(enabled=dtype is not None, dtype=dtype):
                out = model.extract_feat(data['inputs'])
            return pool_features(out, self.feature).float()

        return forward

    def run(self) -> Dict[str, float]:
        """Extract, gather, classify; returns ``{'knn/top1': ..., ...}``."""
        runner = self.runner
        runner.call_hook('before_test')
        runner.call_hook('before_test_epoch')
        runner.model.eval()
        model = self._model()
        self._load_backbone(model)
        forward = self._forward(model)
        bank_feats, bank_labels = extract_features(
            self.bank_dataloader, forward, 'k-NN bank (train) features',
            self.log_interval)
        test_feats, test_labels = extract_features(
            self.dataloader, forward, 'k-NN test features',
            self.log_interval)
        if self.dump_features and is_main_process():
            torch.save(dict(bank_feats=bank_feats.cpu(),
                            bank_labels=bank_labels.cpu(),
                            test_feats=test_feats.cpu(),
                            test_labels=test_labels.cpu()),
                       self.dump_features)
            print_log(f'KNNTestLoop: features saved to '
                      f'{osp.abspath(self.dump_features)}', logger='current')
        num_classes = self._num_classes(bank_labels, test_labels)
        for feats in (bank_feats, test_feats):  # in place: no second bank
            feats.div_(feats.norm(dim=1, keepdim=True).clamp_min_(1e-12))
        metrics: Dict[str, float] = {}
        for metric in self.evaluator.metrics:
            result = metric.compute_from_features(
                bank_feats, bank_labels, test_feats, test_labels,
                num_classes=num_classes, normalized=True, rank=get_rank(),
                world_size=get_world_size())
            print_log(
                f'k-NN ({metric.describe()}; bank {tuple(bank_feats.shape)}'
                f', test {tuple(test_feats.shape)}, {num_classes} classes): '
                + ', '.join(f'{k}: {v:.2f}' for k, v in result.items()),
                logger='current')
            metrics.update(result)
        runner.call_hook('after_test_epoch', metrics=metrics)
        runner.call_hook('after_test')
        return metrics

    def _num_classes(self, *label_sets: torch.Tensor) -> int:
        top = max(int(labels.max()) for labels in label_sets) + 1
        classes = (getattr(self.dataloader.dataset, 'metainfo', None)
                   or {}).get('classes')
        if not classes:
            return top
        if top > len(classes):
            raise ValueError(f'label {top - 1} but the dataset metainfo lists '
                             f'{len(classes)} classes')
        return len(classes)
