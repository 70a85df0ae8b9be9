import random
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from mmequi.engine.hooks.epoch_seed_hook import (EpochSeedHook, epoch_seed,
                                                 epoch_worker_init_fn)


def _draws():
    return (random.random(), float(np.random.rand()), float(torch.rand(1)))


def _runner(seed=0, epoch=0, **loader):
    cfg = dict(train_dataloader=dict(loader))
    return SimpleNamespace(seed=seed, epoch=epoch, cfg=cfg)


def test_same_epoch_same_stream_other_epoch_other_stream():
    hook = EpochSeedHook()
    hook.before_train_epoch(_runner(epoch=3))
    a = _draws()
    hook.before_train_epoch(_runner(epoch=4))
    b = _draws()
    hook.before_train_epoch(_runner(epoch=3))
    assert _draws() == a and a != b


def test_seeds_differ_by_seed_epoch_and_rank():
    seeds = {epoch_seed(s, e, r) for s in (0, 1) for e in range(5)
             for r in range(4)}
    assert len(seeds) == 2 * 5 * 4
    assert all(0 <= s < 2**32 for s in seeds)


def test_worker_init_follows_torch_worker_seed():
    torch.manual_seed(123)
    epoch_worker_init_fn(0)
    a = (random.random(), float(np.random.rand()))
    torch.manual_seed(123)
    epoch_worker_init_fn(5)
    assert (random.random(), float(np.random.rand())) == a
    torch.manual_seed(124)
    epoch_worker_init_fn(0)
    assert (random.random(), float(np.random.rand())) != a


def test_misconfiguration_is_a_clear_error():
    with pytest.raises(ValueError, match='randomness=dict\\(seed'):
        EpochSeedHook().before_train(_runner(seed=None))
    with pytest.raises(ValueError, match='epoch_worker_init_fn'):
        EpochSeedHook().before_train(_runner(num_workers=2))
    EpochSeedHook().before_train(_runner(
        num_workers=2, worker_init_fn=dict(type='epoch_worker_init_fn')))
    EpochSeedHook().before_train(_runner(num_workers=0))


class _Log:
    """A logger stand-in that keeps what it is given."""

    def __init__(self):
        self.warnings = []

    def warning(self, msg):
        self.warnings.append(msg)


def _warnings(**loader):
    runner = _runner(**loader)
    runner.logger = _Log()
    EpochSeedHook().before_train(runner)
    return runner.logger.warnings


def test_persistent_workers_warn_once_naming_the_key():
    init = dict(worker_init_fn=dict(type='epoch_worker_init_fn'))
    warned = _warnings(num_workers=2, persistent_workers=True, **init)
    assert len(warned) == 1
    assert 'train_dataloader.persistent_workers=True with num_workers=2' \
        in warned[0]
    assert 'persistent_workers=False' in warned[0]
    assert _warnings(num_workers=2, persistent_workers=False, **init) == []
    assert _warnings(num_workers=2, **init) == []
    assert _warnings(num_workers=0, persistent_workers=True) == []
