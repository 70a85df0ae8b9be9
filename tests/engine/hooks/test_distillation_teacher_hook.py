import math
from types import SimpleNamespace

import numpy as np
import pytest
from mmengine.logging import MessageHub

from mmequi.engine.hooks import (DistillationTeacherHook, cosine_momentum,
                                 warmup_temperature)


def test_teacher_temperature_schedule_endpoints():
    # official: linspace(0.04, 0.07, 30) then 0.07 -- 0.07 reached at 29
    assert warmup_temperature(0, 0.04, 0.07, 30) == pytest.approx(0.04)
    assert warmup_temperature(29, 0.04, 0.07, 30) == pytest.approx(0.07)
    assert warmup_temperature(15, 0.04, 0.07, 30) == pytest.approx(
        0.04 + 0.03 * 15 / 29)
    assert warmup_temperature(30, 0.04, 0.07, 30) == 0.07
    assert warmup_temperature(799, 0.04, 0.07, 30) == 0.07
    assert warmup_temperature(0, 0.04, 0.07, 0) == 0.07
    sched = [warmup_temperature(e, 0.04, 0.07, 30) for e in range(30)]
    np.testing.assert_allclose(sched, np.linspace(0.04, 0.07, 30))


def test_momentum_schedule_endpoints():
    assert cosine_momentum(0, 1000, 0.996, 1.0) == pytest.approx(0.996)
    assert cosine_momentum(1000, 1000, 0.996, 1.0) == pytest.approx(1.0)
    assert cosine_momentum(500, 1000, 0.996, 1.0) == pytest.approx(0.998)
    # official: 1 + 0.5 (0.996 - 1)(1 + cos(pi it / T))
    for it in (1, 123, 999):
        assert cosine_momentum(it, 1000, 0.996, 1.0) == pytest.approx(
            1 + 0.5 * (0.996 - 1) * (1 + math.cos(math.pi * it / 1000)))


class _Model:

    def __init__(self):
        self.teacher_temp = self.teacher_patch_temp = None
        self.momenta = []

    def momentum_update(self, m):
        self.momenta.append(m)


def _runner(model, epoch=0, it=0, max_iters=100, update=True):
    hub = MessageHub.get_instance('test_teacher_hook')
    return SimpleNamespace(
        model=model, epoch=epoch, iter=it, max_iters=max_iters,
        message_hub=hub,
        optim_wrapper=SimpleNamespace(should_update=lambda: update))


def test_hook_drives_the_model():
    hook = DistillationTeacherHook(teacher_temp=0.07, warmup_teacher_temp=0.04,
                                   teacher_patch_temp=0.06,
                                   warmup_teacher_patch_temp=0.03,
                                   warmup_epochs=3)
    model = _Model()
    hook.before_train_epoch(_runner(model, epoch=1))
    assert model.teacher_temp == pytest.approx(0.055)
    assert model.teacher_patch_temp == pytest.approx(0.045)
    hook.after_train_iter(_runner(model, it=50), 0)
    assert model.momenta == [pytest.approx(0.998)]
    # gradient accumulation step without optimizer step: no EMA
    hook.after_train_iter(_runner(model, it=51, update=False), 0)
    assert len(model.momenta) == 1


def test_bad_arguments_and_models():
    with pytest.raises(ValueError, match='momentum'):
        DistillationTeacherHook(momentum=1.0, end_momentum=0.99)
    with pytest.raises(TypeError, match='momentum_update'):
        DistillationTeacherHook().before_train(_runner(object()))
