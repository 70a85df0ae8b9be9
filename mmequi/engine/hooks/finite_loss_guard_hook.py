"""Stop (or skip) a training step whose loss is not finite (issue 14).

A diverged run (e.g. ``lr=1e6``) used to go on with NaN weights, write
NaN checkpoints and exit 0. The official iBOT stops on a non-finite loss
(``if not math.isfinite(loss.item()): sys.exit(1)``, ``main_ibot.py``);
this hook does the same, one step earlier: the check runs in the optimizer
wrapper *before* ``optimizer.step`` (see
:mod:`mmequi.engine.optimizers.ssl_optim_wrapper`), so the broken gradient
is never applied, and the hook (priority ``VERY_HIGH``) acts in
``after_train_iter`` before the EMA teacher update
(:class:`DistillationTeacherHook`, ``NORMAL``) and before any checkpoint
(``CheckpointHook``, ``VERY_LOW``).

* ``mode='stop'`` (default): raise :class:`NonFiniteLossError` naming the
  iteration, the epoch and every loss term's value (non-finite ones
  marked). ``tools/train.py`` turns it into a final log line and exit code 1.
* ``mode='off'``: no check (the step is as without the hook; for
  measuring the guard's cost).
* ``mode='skip', max_skips=N``: an iteration with a non-finite loss applies
  no update (no optimizer step, no EMA teacher update; learning-rate
  schedules still advance with the iteration count) and logs a WARNING; the
  ``N + 1``-th consecutive one stops the run as above. Buffers that the
  forward pass updates in place (iBOT's centres, BatchNorm statistics) are
  not rolled back: a skipped step whose model buffers became non-finite
  stops the run, naming them.

The optimizer wrapper must be :class:`SSLOptimWrapper` or
:class:`SSLAmpOptimWrapper` (a clear error otherwise).
"""
import math
from typing import Dict, List, Optional

import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.optim import OptimWrapperDict
from mmengine.registry import HOOKS

from mmequi.engine.optimizers.ssl_optim_wrapper import _SSLGradRules

__all__ = ['FiniteLossGuardHook', 'NonFiniteLossError', 'describe_losses']

MODES = ('stop', 'skip', 'off')


class NonFiniteLossError(RuntimeError):
    """Raised by :class:`FiniteLossGuardHook` to end a diverged run."""


def describe_losses(outputs: Optional[Dict]) -> str:
    """The non-finite entries of a train step's log dict, then every
    entry's value, e.g. ``non-finite: loss, loss_cls; values: loss=nan
    (non-finite), loss_cls=inf (non-finite), loss_patch=2.3``."""
    if not outputs:
        return '(the model returned no loss terms)'
    parts, bad = [], []
    for key, value in outputs.items():
        if isinstance(value, torch.Tensor):
            value = value.detach().float()
            value = value.item() if value.numel() == 1 else \
                value.sum().item()
        try:
            value = float(value)
        except (TypeError, ValueError):
            parts.append(f'{key}={value!r}')
            continue
        if not math.isfinite(value):
            bad.append(key)
        mark = '' if math.isfinite(value) else ' (non-finite)'
        parts.append(f'{key}={value:.6g}{mark}')
    return f'non-finite: {", ".join(bad) or "none"}; values: ' + \
        ', '.join(parts)


@HOOKS.register_module()
class FiniteLossGuardHook(Hook):
    """Stop the run (or skip up to ``max_skips`` consecutive updates) on a
    non-finite loss, before the update and before any checkpoint.

    Args:
        mode: ``'stop'`` (default, the official iBOT behaviour),
            ``'skip'`` or ``'off'``.
        max_skips: with ``mode='skip'``, how many consecutive iterations
            may be skipped (>= 1); the next non-finite one stops the run.
    """

    priority = 'VERY_HIGH'

    def __init__(self, mode: str = 'stop', max_skips: int = 0) -> None:
        if mode not in MODES:
            raise ValueError(f'FiniteLossGuardHook: mode={mode!r}; expected '
                             f'one of {MODES}')
        if mode == 'skip' and (not isinstance(max_skips, int)
                               or max_skips < 1):
            raise ValueError(
                f"FiniteLossGuardHook: mode='skip' needs max_skips >= 1 "
                f'(consecutive skipped updates before stopping); got '
                f'max_skips={max_skips!r}')
        if mode != 'skip' and max_skips:
            raise ValueError(
                f'FiniteLossGuardHook: max_skips={max_skips!r} only applies '
                f"to mode='skip'; got mode={mode!r}")
        self.mode, self.max_skips = mode, max_skips
        self.consecutive = 0

    @staticmethod
    def _wrappers(runner) -> List:
        ow = runner.optim_wrapper
        wrappers = list(ow.values()) if isinstance(ow, OptimWrapperDict) \
            else [ow]
        for w in wrappers:
            if not isinstance(w, _SSLGradRules):
                raise TypeError(
                    f'FiniteLossGuardHook needs optim_wrapper.type '
                    f"'SSLOptimWrapper' or 'SSLAmpOptimWrapper' (they check "
                    f'the loss before the optimizer step); the config has '
                    f'{type(w).__name__}. Use one of them or remove '
                    f"dict(type='FiniteLossGuardHook') from custom_hooks")
        return wrappers

    def before_train(self, runner) -> None:
        if self.mode == 'off':
            return
        for w in self._wrappers(runner):
            w.enable_finite_check()
        self.consecutive = 0

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs=None) -> None:
        if self.mode == 'off':
            return
        wrappers = self._wrappers(runner)
        if not any(w.last_step_skipped for w in wrappers):
            if all(w.should_update() for w in wrappers):
                self.consecutive = 0
            return
        self.consecutive += 1
        where = (f'iteration {runner.iter + 1}/{runner.max_iters} (epoch '
                 f'{runner.epoch + 1}, batch {batch_idx + 1}; 1-based as '
                 f'in the log)')
        terms = describe_losses(outputs)
        not_applied = ('its update was not applied: weights, optimizer '
                       'state and EMA teacher are those of the previous '
                       'iteration')
        if self.mode == 'stop' or self.consecutive > self.max_skips:
            self._stop(runner, where, terms, not_applied)
        bad = self._non_finite_buffers(runner)
        if bad:
            self._stop(runner, where, terms, not_applied +
                       '; but the forward pass left non-finite model '
                       f'buffers, which skipping cannot undo: {bad}')
        runner.logger.warning(
            f'FiniteLossGuardHook: non-finite loss at {where}: {terms}; '
            f'{not_applied} (skip {self.consecutive} of at most '
            f'{self.max_skips} in a row)')

    def _stop(self, runner, where: str, terms: str, not_applied: str):
        if self.mode == 'skip':
            why = (f'{self.consecutive} consecutive non-finite losses '
                   f'(max_skips={self.max_skips})')
            hint = 'raise max_skips'
        else:
            why = 'non-finite loss'
            hint = ("dict(type='FiniteLossGuardHook', mode='skip', "
                    "max_skips=N) in custom_hooks skips up to N steps")
        msg = (f'{why} at {where}: {terms}. Training stopped; '
               f'{not_applied}, and no checkpoint was written after it. '
               f'Lower optim_wrapper.optimizer.lr or check the data; '
               f'{hint}.')
        runner.logger.error(f'FiniteLossGuardHook: {msg}')
        raise NonFiniteLossError(msg)

    @staticmethod
    def _non_finite_buffers(runner) -> List[str]:
        """Names of floating-point model buffers holding inf/NaN (one host
        read, only on a skipped step)."""
        model = runner.model.module if is_model_wrapper(runner.model) \
            else runner.model
        named = [(n, b) for n, b in model.named_buffers()
                 if b.is_floating_point() and b.numel()]
        if not named:
            return []
        flags = torch.stack([torch.isfinite(b).all() for _, b in named])
        return [n for (n, _), ok in zip(named, flags.tolist()) if not ok]
