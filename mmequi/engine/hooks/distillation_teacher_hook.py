"""Teacher schedules of self-distillation (DINO/iBOT): EMA momentum and
teacher temperatures.

* momentum (per iteration, after each optimizer step), cosine from
  ``momentum`` to ``end_momentum`` over all training iterations
  (iBOT/DINO ``cosine_scheduler(0.996, 1, epochs, niter_per_ep)``):
  ``m(it) = m_end + (m_0 − m_end) · (1 + cos(π · it / T)) / 2``;
* teacher temperature (per epoch): linear warm-up
  ``linspace(warmup_teacher_temp, teacher_temp, warmup_epochs)[epoch]``
  then ``teacher_temp`` (the official schedule, which reaches the final
  value at epoch ``warmup_epochs − 1``); the patch temperature has its own
  pair of values (defaults: the same).

Both are functions of the runner's epoch/iteration, so a resumed run
continues them exactly. The model must provide ``momentum_update(m)`` and
the attributes ``teacher_temp``/``teacher_patch_temp`` (e.g.
:class:`mmequi.models.iBOT`).
"""
import math
from typing import Optional

import numpy as np
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS


def warmup_temperature(epoch: int, start: float, end: float,
                       warmup_epochs: int) -> float:
    """The official schedule: ``linspace(start, end, W)[epoch]`` for
    ``epoch < W``, then ``end``."""
    if epoch < warmup_epochs:
        return float(np.linspace(start, end, warmup_epochs)[epoch])
    return float(end)


def cosine_momentum(it: int, total: int, start: float, end: float) -> float:
    """``end + (start − end)(1 + cos(π it / total)) / 2``."""
    return end + (start - end) * (1 + math.cos(math.pi * it / total)) / 2


@HOOKS.register_module()
class DistillationTeacherHook(Hook):
    """Drives the EMA teacher and its temperatures.

    Args:
        momentum: teacher momentum at iteration 0 (0.996).
        end_momentum: at the last iteration (1.0).
        teacher_temp: final [CLS] teacher temperature (0.07).
        warmup_teacher_temp: initial [CLS] teacher temperature (0.04).
        warmup_epochs: epochs of the linear warm-up (30).
        teacher_patch_temp / warmup_teacher_patch_temp: the same for patch
            tokens (default: the [CLS] values).
    """

    priority = 'NORMAL'

    def __init__(self, momentum: float = 0.996, end_momentum: float = 1.0,
                 teacher_temp: float = 0.07,
                 warmup_teacher_temp: float = 0.04, warmup_epochs: int = 30,
                 teacher_patch_temp: Optional[float] = None,
                 warmup_teacher_patch_temp: Optional[float] = None) -> None:
        if not 0.0 <= momentum <= end_momentum <= 1.0:
            raise ValueError(f'need 0 <= momentum ({momentum}) <= '
                             f'end_momentum ({end_momentum}) <= 1')
        if warmup_epochs < 0:
            raise ValueError(f'warmup_epochs={warmup_epochs} must be >= 0')
        self.momentum, self.end_momentum = momentum, end_momentum
        self.teacher_temp = teacher_temp
        self.warmup_teacher_temp = warmup_teacher_temp
        self.warmup_epochs = warmup_epochs
        self.teacher_patch_temp = teacher_patch_temp or teacher_temp
        self.warmup_teacher_patch_temp = (warmup_teacher_patch_temp
                                          or warmup_teacher_temp)

    @staticmethod
    def _model(runner):
        model = runner.model
        if is_model_wrapper(model):
            model = model.module
        for attr in ('momentum_update', 'teacher_temp', 'teacher_patch_temp'):
            if not hasattr(model, attr):
                raise TypeError(f'DistillationTeacherHook: '
                                f'{type(model).__name__} has no {attr!r}')
        return model

    def temperatures(self, epoch: int):
        """(teacher_temp, teacher_patch_temp) at ``epoch``."""
        return (warmup_temperature(epoch, self.warmup_teacher_temp,
                                   self.teacher_temp, self.warmup_epochs),
                warmup_temperature(epoch, self.warmup_teacher_patch_temp,
                                   self.teacher_patch_temp,
                                   self.warmup_epochs))

    def before_train(self, runner) -> None:
        self._model(runner)  # fail early on a wrong model

    def before_train_epoch(self, runner) -> None:
        model = self._model(runner)
        model.teacher_temp, model.teacher_patch_temp = self.temperatures(
            runner.epoch)

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs=None) -> None:
        model = self._model(runner)
        hub = runner.message_hub
        hub.update_scalar('train/teacher_temp', model.teacher_temp)
        if not runner.optim_wrapper.should_update():
            return  # gradient accumulation: no optimizer step this iter
        if getattr(runner.optim_wrapper, 'last_step_skipped', False):
            return  # non-finite loss, update skipped (FiniteLossGuardHook)
        m = cosine_momentum(runner.iter, runner.max_iters, self.momentum,
                            self.end_momentum)
        model.momentum_update(m)
        hub.update_scalar('train/teacher_momentum', m)
