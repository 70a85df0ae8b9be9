"""Warn when a self-distillation teacher collapses (DINO / iBOT).

Reads the collapse figures that :class:`~mmequi.models.losses.iBOTLoss`
adds to the loss dict (``<key>_entropy``: mean row entropy / ln K, 1 =
uniform; ``<key>_protos``: prototypes the batch uses, 1 = one prototype;
see :mod:`mmequi.models.utils.collapse_stats`) after every iteration and
classifies it::

    uniform   if entropy >= uniform_threshold
    one-hot   if protos  <= min_protos
    ok        otherwise

When one state lasts ``patience`` iterations in a row the hook logs a
warning (once per streak) naming the figures, the iteration the streak
began and what usually helps; with ``raise_on_collapse=True`` it stops the
run instead. A summary (figures averaged over the last ``window``
iterations, iterations per state, longest streaks) is kept in the message
hub's runtime info under ``'collapse_monitor'`` and logged after every
epoch, so tools (e.g. ``tools/benchmarks/equivariance_benchmark.py``) can
report it.
"""
import math
from collections import deque
from typing import Dict, Optional, Sequence

from mmengine.hooks import Hook
from mmengine.registry import HOOKS

__all__ = ['CollapseMonitorHook', 'CollapseError']

STATES = ('ok', 'uniform', 'one-hot')
HINT = ('lower the (final) teacher temperature or lengthen its warm-up, '
        'lower the learning rate, use fewer prototypes for small batches, '
        'or train longer; configs/equi_recon/README.md "Collapse"')


class CollapseError(RuntimeError):
    """Raised by :class:`CollapseMonitorHook` with ``raise_on_collapse``."""


def classify(entropy: float, protos: float, uniform_threshold: float,
             min_protos: float) -> Optional[str]:
    """'uniform', 'one-hot', 'ok', or None for a NaN figure (no rows)."""
    if math.isnan(entropy) or math.isnan(protos):
        return None
    if entropy >= uniform_threshold:
        return 'uniform'
    if protos <= min_protos:
        return 'one-hot'
    return 'ok'


class _Track:
    """Running state of one monitored output (e.g. ``teacher_cls``)."""

    def __init__(self, window: int) -> None:
        self.entropy: deque = deque(maxlen=window)
        self.protos: deque = deque(maxlen=window)
        self.counts = {s: 0 for s in STATES}
        self.longest = {s: 0 for s in STATES if s != 'ok'}
        self.state: Optional[str] = None
        self.streak = 0
        self.since = 0
        self.warned = False

    def update(self, it: int, entropy: float, protos: float,
               state: Optional[str]) -> None:
        if state is None:
            return
        self.entropy.append(entropy)
        self.protos.append(protos)
        self.counts[state] += 1
        if state == self.state:
            self.streak += 1
        else:
            self.state, self.streak, self.since = state, 1, it
            self.warned = False
        if state != 'ok':
            self.longest[state] = max(self.longest[state], self.streak)

    def summary(self, patience: int) -> dict:
        n = len(self.entropy)
        return dict(
            entropy=sum(self.entropy) / n if n else float('nan'),
            protos=sum(self.protos) / n if n else float('nan'),
            iters={s: c for s, c in self.counts.items()},
            longest_streak=dict(self.longest),
            state=self.state,
            collapsed=self.state not in (None, 'ok') and
            self.streak >= patience)


@HOOKS.register_module()
class CollapseMonitorHook(Hook):
    """See the module docstring.

    Args:
        keys: monitored outputs; ``'teacher_cls'`` needs
            ``teacher_cls_entropy`` and ``teacher_cls_protos`` in the loss
            dict. Defaults to the [CLS] and the patch outputs.
        uniform_threshold: entropy / ln K at or above which an output
            counts as uniform (0.9: every row spreads its mass over more
            than K^0.9 prototypes; the uniform collapses of the toy iBOT
            sat at 0.94-0.99).
        min_protos: prototypes in use at or below which it counts as
            collapsed onto one (or a few) prototypes (2).
        patience: iterations in a row before the warning (50).
        window: iterations the summary averages over (50).
        raise_on_collapse: raise :class:`CollapseError` instead of warning.
    """

    priority = 'LOW'

    def __init__(self, keys: Sequence[str] = ('teacher_cls',
                                              'teacher_patch'),
                 uniform_threshold: float = 0.9, min_protos: float = 2.0,
                 patience: int = 50, window: int = 50,
                 raise_on_collapse: bool = False) -> None:
        if isinstance(keys, str) or not keys:
            raise ValueError(f'keys must be a non-empty list, got {keys!r}')
        if not 0.0 < uniform_threshold <= 1.0:
            raise ValueError(f'uniform_threshold={uniform_threshold} must be '
                             'in (0, 1] (a fraction of ln K)')
        if min_protos < 1.0:
            raise ValueError(f'min_protos={min_protos} must be >= 1')
        if patience < 1 or window < 1:
            raise ValueError(f'patience={patience} and window={window} must '
                             'be >= 1')
        self.keys = list(keys)
        self.uniform_threshold = float(uniform_threshold)
        self.min_protos = float(min_protos)
        self.patience, self.window = int(patience), int(window)
        self.raise_on_collapse = raise_on_collapse
        self.tracks: Dict[str, _Track] = {}

    def before_train(self, runner) -> None:
        self.tracks = {k: _Track(self.window) for k in self.keys}

    def _figures(self, outputs: dict, key: str):
        names = (f'{key}_entropy', f'{key}_protos')
        missing = [n for n in names if n not in (outputs or {})]
        if missing:
            raise KeyError(
                f'CollapseMonitorHook: the loss dict has no {missing} (it has '
                f'{sorted(outputs or {})}); the hook needs a model whose loss '
                'reports them, e.g. iBOTLoss(monitor=True)')
        return tuple(float(outputs[n]) for n in names)

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs: Optional[dict] = None) -> None:
        for key, track in self.tracks.items():
            entropy, protos = self._figures(outputs, key)
            state = classify(entropy, protos, self.uniform_threshold,
                             self.min_protos)
            track.update(runner.iter, entropy, protos, state)
            if state in (None, 'ok') or track.streak < self.patience \
                    or track.warned:
                continue
            track.warned = True
            what = (f'uniform (entropy {entropy:.3f} of ln K >= '
                    f'{self.uniform_threshold})' if state == 'uniform' else
                    f'on {protos:.2f} prototype(s) (<= {self.min_protos})')
            msg = (f'collapse: the {key} output has been {what} for '
                   f'{track.streak} iterations, since iteration '
                   f'{track.since + 1}; {HINT}')
            if self.raise_on_collapse:
                raise CollapseError(msg)
            runner.logger.warning(msg)
        runner.message_hub.update_info('collapse_monitor', self.summary())

    def summary(self) -> dict:
        """``{key: dict(entropy, protos, iters, longest_streak, state,
        collapsed)}`` plus the thresholds."""
        out = {k: t.summary(self.patience) for k, t in self.tracks.items()}
        out['thresholds'] = dict(uniform=self.uniform_threshold,
                                 min_protos=self.min_protos,
                                 patience=self.patience, window=self.window)
        return out

    def after_train_epoch(self, runner) -> None:
        parts = []
        for key, track in self.tracks.items():
            s = track.summary(self.patience)
            parts.append(
                f'{key}: entropy {s["entropy"]:.3f} of ln K, '
                f'{s["protos"]:.1f} prototypes in use (mean of the last '
                f'{len(track.entropy)} iterations), iterations uniform '
                f'{s["iters"]["uniform"]} / one-hot {s["iters"]["one-hot"]} '
                f'/ ok {s["iters"]["ok"]}'
                + (' -- COLLAPSED' if s['collapsed'] else ''))
        runner.logger.info('collapse monitor: ' + '; '.join(parts))
