"""CollapseMonitorHook: states, the warning after `patience`, summary."""
from types import SimpleNamespace

import pytest
import torch
from mmengine.logging import MessageHub

from mmequi.engine.hooks import CollapseError, CollapseMonitorHook


class _Logger:
    def __init__(self):
        self.warnings, self.infos = [], []

    def warning(self, msg):
        self.warnings.append(msg)

    def info(self, msg):
        self.infos.append(msg)


def _runner():
    return SimpleNamespace(iter=0, logger=_Logger(),
                           message_hub=MessageHub.get_instance(
                               'collapse_monitor_test'))


def _feed(hook, runner, values):
    """values: (cls entropy, cls protos) per iteration."""
    for ent, protos in values:
        out = dict(teacher_cls_entropy=torch.tensor(ent),
                   teacher_cls_protos=torch.tensor(protos))
        hook.after_train_iter(runner, 0, outputs=out)
        runner.iter += 1


def test_uniform_streak_warns_once_after_patience():
    hook = CollapseMonitorHook(keys=['teacher_cls'], patience=3, window=2)
    runner = _runner()
    hook.before_train(runner)
    _feed(hook, runner, [(0.5, 40)] * 2 + [(0.97, 60)] * 2)
    assert runner.logger.warnings == []
    _feed(hook, runner, [(0.96, 60)] * 3)
    assert len(runner.logger.warnings) == 1  # once per streak
    msg = runner.logger.warnings[0]
    assert 'teacher_cls output has been uniform' in msg
    assert 'since iteration 3' in msg and 'teacher temperature' in msg
    s = runner.message_hub.get_info('collapse_monitor')['teacher_cls']
    assert s['iters'] == {'ok': 2, 'uniform': 5, 'one-hot': 0}
    assert s['collapsed'] and s['state'] == 'uniform'
    assert s['entropy'] == pytest.approx(0.96)  # window of 2
    assert s['longest_streak']['uniform'] == 5
    hook.after_train_epoch(runner)
    assert 'COLLAPSED' in runner.logger.infos[-1]


def test_one_prototype_and_recovery():
    hook = CollapseMonitorHook(keys=['teacher_cls'], patience=2)
    runner = _runner()
    hook.before_train(runner)
    _feed(hook, runner, [(0.01, 1.2)] * 2)
    assert 'on 1.20 prototype(s)' in runner.logger.warnings[0]
    _feed(hook, runner, [(0.3, 30.0), (float('nan'), float('nan'))])
    s = hook.summary()['teacher_cls']
    assert not s['collapsed'] and s['state'] == 'ok'
    assert s['iters'] == {'ok': 1, 'uniform': 0, 'one-hot': 2}  # NaN skipped
    assert hook.summary()['thresholds']['min_protos'] == 2.0


def test_raise_and_errors():
    hook = CollapseMonitorHook(keys=['teacher_cls'], patience=1,
                               raise_on_collapse=True)
    runner = _runner()
    hook.before_train(runner)
    with pytest.raises(CollapseError, match='uniform'):
        _feed(hook, runner, [(1.0, 8.0)])
    hook = CollapseMonitorHook()
    hook.before_train(runner)
    with pytest.raises(KeyError, match='teacher_patch_entropy'):
        _feed(hook, runner, [(0.5, 8.0)])
    for bad in (dict(keys='teacher_cls'), dict(uniform_threshold=0),
                dict(min_protos=0.5), dict(patience=0)):
        with pytest.raises(ValueError):
            CollapseMonitorHook(**bad)
