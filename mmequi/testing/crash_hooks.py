"""A test-only hook that kills its own process at a chosen point.

Import it through a config's ``custom_imports`` and add
``dict(type='SigkillHook')`` to ``custom_hooks``; it does nothing unless the
environment variable :data:`ENV` says where to die:

* ``iter:N``: at the start of training iteration ``N`` (0-based, i.e. after
  ``N`` iterations are done), before the batch is used;
* ``save:N``: inside the write of the checkpoint whose ``meta.iter`` is
  ``N``, after its data are in the temporary file and before the rename
  (the first ``os.fsync`` after ``before_save_checkpoint``).

SIGKILL cannot be caught, so nothing of the process's cleanup runs: this is
what a SLURM time limit or an out-of-memory kill does. Used by
``tests/compat/test_resume.py``.
"""
import os
import signal
from typing import Optional, Tuple

from mmengine.hooks import Hook
from mmengine.registry import HOOKS

#: the environment variable naming the kill point
ENV = 'MMEQUI_TEST_SIGKILL'


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def kill_point() -> Optional[Tuple[str, int]]:
    """``(kind, iteration)`` from :data:`ENV`, or None when unset."""
    value = os.environ.get(ENV)
    if not value:
        return None
    kind, _, num = value.partition(':')
    if kind not in ('iter', 'save') or not num.isdigit():
        raise ValueError(f'{ENV}={value!r}: expected iter:N or save:N')
    return kind, int(num)


@HOOKS.register_module()
class SigkillHook(Hook):
    """SIGKILL this process where :data:`ENV` says (test-only)."""

    priority = 'VERY_HIGH'

    def before_train_iter(self, runner, batch_idx: int,
                          data_batch=None) -> None:
        if kill_point() == ('iter', runner.iter):
            _die()

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        if kill_point() != ('save', checkpoint['meta']['iter']):
            return
        real_fsync = os.fsync

        def fsync_then_die(fd: int) -> None:
            real_fsync(fd)
            _die()

        os.fsync = fsync_then_die
