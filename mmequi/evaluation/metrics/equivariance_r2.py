"""R² of transformation parameters predicted from frozen features.

Two definitions are in use and they give different numbers for
multi-dimensional targets, so both are reported, named:

* ``r2_sie`` -- the coefficient of determination with ONE scalar mean over
  all entries of the target matrix, as in SIE (Garrido, Najman, LeCun,
  "Self-supervised learning of split invariant equivariant
  representations", ICML 2023) for its rotation / colour probes on
  3DIEBench::

      r2_sie = 1 - sum_{i,d} (y_id - yhat_id)^2 / sum_{i,d} (y_id - ybar)^2,
      ybar   = mean_{i,d} y_id                       (a scalar)

* ``r2_mean`` -- the mean over output dimensions of the per-dimension R²
  (``sklearn.metrics.r2_score(y, yhat)``, ``multioutput='uniform_average'``)::

      r2_mean = 1/D sum_d [1 - sum_i (y_id - yhat_id)^2
                               / sum_i (y_id - ybar_d)^2],
      ybar_d  = mean_i y_id

  A dimension with a constant target scores 1 if it is predicted exactly
  and 0 otherwise (sklearn's ``force_finite=True``).

For a 1-d target both are the same number.

Synthetic-transform probes record their protocol in every data sample
(``probe_protocol``, see
:class:`~mmequi.models.data_preprocessors.TransformProbeDataPreprocessor`);
the metric names then carry it: ``r2_zero_fill/rot_sie`` (the paper's
protocol, whose fill region leaks θ) vs ``r2_crop/rot_sie`` (leak-free).
Samples without a protocol (e.g. 3DIEBench pairs) give ``r2/<task>_sie``.
"""
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger
from mmpretrain.registry import METRICS

__all__ = ['EquivarianceR2', 'r2_sie', 'r2_mean']


def _as_2d(name: str, x) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2:
        raise ValueError(f'{name} must be (N,) or (N, D), got shape '
                         f'{x.shape}')
    return x


def _checked(y, y_hat):
    y, y_hat = _as_2d('y', y), _as_2d('y_hat', y_hat)
    if y.shape != y_hat.shape:
        raise ValueError(f'targets {y.shape} and predictions {y_hat.shape} '
                         'differ in shape')
    if y.shape[0] < 2:
        raise ValueError(f'R² needs at least 2 samples, got {y.shape[0]}')
    return y, y_hat


def r2_sie(y, y_hat) -> float:
    """SIE's R²: one scalar mean over all entries of ``y`` (N, D)."""
    y, y_hat = _checked(y, y_hat)
    ss_res = np.square(y - y_hat).sum()
    ss_tot = np.square(y - y.mean()).sum()
    if ss_tot == 0:
        return 1.0 if ss_res == 0 else 0.0
    return float(1.0 - ss_res / ss_tot)


def r2_mean(y, y_hat) -> float:
    """Mean of the per-dimension R² of ``y`` (N, D) (sklearn's default)."""
    y, y_hat = _checked(y, y_hat)
    ss_res = np.square(y - y_hat).sum(axis=0)  # (D,)
    ss_tot = np.square(y - y.mean(axis=0)).sum(axis=0)  # (D,)
    scores = np.where(ss_res == 0, 1.0, 0.0)  # constant or perfect dims
    ok = ss_tot != 0
    scores[ok] = 1.0 - ss_res[ok] / ss_tot[ok]
    return float(scores.mean())


@METRICS.register_module()
class EquivarianceR2(BaseMetric):
    """R² (both definitions, see the module docstring) and MSE of
    regression probes.

    Reads, for every task name, ``pred_<task>`` and ``gt_<task>`` (each
    ``(D,)``) from the predicted data samples (what
    :class:`~mmequi.models.classifiers.EquivarianceProbe` writes) and
    reports ``<prefix>/<task>_sie``, ``<prefix>/<task>_mean`` and
    ``<prefix>/<task>_mse``. Collected over all ranks before computing
    (mmengine's ``collect_results``), so the numbers are those of the whole
    evaluation set.

    Args:
        tasks: names of the regression tasks to score.
        collect_device: 'cpu' or 'gpu' (mmengine).
        prefix: metric-name prefix. Defaults to ``'r2'``, or
            ``'r2_<protocol>'`` when the samples record a probe protocol.
        protocol: if given, the protocol every sample must record (an
            error otherwise), e.g. ``'crop'`` in a leak-free config.
    """

    default_prefix: Optional[str] = 'r2'

    def __init__(self, tasks: Sequence[str], collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 protocol: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if isinstance(tasks, str) or not tasks:
            raise ValueError('tasks must be a non-empty list of task names, '
                             f'got {tasks!r}')
        self.tasks = list(tasks)
        self.protocol = protocol
        self._auto_prefix = prefix is None

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            row = {}
            for task in self.tasks:
                for kind in ('pred', 'gt'):
                    key = f'{kind}_{task}'
                    if key not in sample:
                        raise KeyError(
                            f'EquivarianceR2: a predicted data sample has no '
                            f'"{key}" (has {sorted(sample)}); is "{task}" a '
                            "regression task of the model's tasks?")
                    value = sample[key]
                    if isinstance(value, torch.Tensor):
                        value = value.detach().cpu().numpy()
                    row[key] = np.asarray(value, np.float64).reshape(-1)
            row['protocol'] = sample.get('probe_protocol')
            self.results.append(row)

    def _check_protocol(self, results: List[dict]) -> Optional[str]:
        protocols = sorted({str(r.get('protocol')) for r in results})
        if len(protocols) > 1:
            raise ValueError(f'EquivarianceR2: the samples mix probe '
                             f'protocols {protocols}; score them apart')
        protocol = results[0].get('protocol') if results else None
        if self.protocol is not None and protocol != self.protocol:
            raise ValueError(
                f'EquivarianceR2(protocol={self.protocol!r}) but the samples '
                f'were made with protocol {protocol!r}; check the data '
                "preprocessor's protocol")
        if self._auto_prefix:
            self.prefix = self.default_prefix if protocol is None else \
                f'{self.default_prefix}_{protocol}'
        return protocol

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        protocol = self._check_protocol(results)
        metrics = {}
        for task in self.tasks:
            y = np.stack([r[f'gt_{task}'] for r in results])  # (N, D)
            y_hat = np.stack([r[f'pred_{task}'] for r in results])
            metrics[f'{task}_sie'] = r2_sie(y, y_hat)
            metrics[f'{task}_mean'] = r2_mean(y, y_hat)
            metrics[f'{task}_mse'] = float(np.square(y - y_hat).mean())
        MMLogger.get_current_instance().info(
            f'EquivarianceR2 over {len(results)} samples'
            + (f' (probe protocol {protocol!r})' if protocol else ''))
        return metrics
