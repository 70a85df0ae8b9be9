"""Crash-safe checkpoint rotation and exact resume (mmengine 0.10.7).

These patch mmengine's own classes because every config uses them: mmengine
inserts a ``CheckpointHook`` when a config names none, and its ``Runner``
builds ``EpochBasedTrainLoop`` directly from ``train_cfg=dict(by_epoch=True)``
(``mmengine/runner/runner.py``, ``build_train_loop``), so a registered
subclass would not reach the configs of the toolboxes' benchmarks.

Why, point by point (issue 14, items 3 and 4):

* **Rotation.** ``CheckpointHook._save_checkpoint_with_step``
  (``mmengine/hooks/checkpoint_hook.py``) removes the oldest kept checkpoint
  *before* writing the new one; with ``max_keep_ckpts=1`` a kill during the
  write leaves no checkpoint. Here the new checkpoint is written (atomically,
  :func:`mmequi.compat.checkpoint.atomic_write`), then ``last_checkpoint``,
  and only then is the old one removed.
* **last_checkpoint.** mmengine writes it with ``open(path, 'w')``; a kill
  right after the open leaves an empty file and ``--resume`` fails with
  ``checkpoint  can not be found``. Here it is written with
  :func:`~mmequi.compat.checkpoint.atomic_write` (temp + fsync + rename).
* **Resume fallback.** ``find_latest_checkpoint`` (as imported by
  ``mmengine/runner/runner.py``) trusts ``last_checkpoint``. Here
  :func:`find_resume_checkpoint` checks it and otherwise falls back to the
  newest complete checkpoint of the work dir, with a WARNING.
* **Stale temp files.** A save killed before its rename leaves
  ``.epoch_N.pth.XXXX.tmp``; ``CheckpointHook.before_train`` now removes
  them (main process) with an INFO line listing them.
* **Mid-epoch resume.** ``EpochBasedTrainLoop.run_epoch`` always starts an
  epoch at its first batch, so resuming from an iteration checkpoint saved
  inside an epoch trains that epoch's first batches twice. Here the batches
  already trained are drawn from the dataloader and dropped (same sampler
  order, same worker assignment, so the same augmentations) and the
  main-process random state saved in the checkpoint is restored before the
  next batch: the resumed run ends bit-identical to an uninterrupted one.
  Dropping sampler indices instead would be cheaper but not exact: the
  DataLoader gives batch ``i`` to worker ``i % num_workers``, whose random
  stream depends on how many samples it has already transformed.
* **Finished run.** ``--resume`` from a checkpoint taken at the last
  iteration of an epoch-based run (an iteration checkpoint stores the
  unfinished epoch) trained a whole extra epoch; now the loop logs that the
  run is finished and returns without training.
"""
import glob
import logging
import os
import os.path as osp
import random
import zipfile
from typing import Any, Dict, List, Optional, Tuple

import numpy as np
import torch

from .checkpoint import atomic_write, load_checkpoint_file

#: checkpoint meta keys written by these patches
RNG_KEY = 'mmequi_rng_state'
BATCHES_DONE_KEY = 'mmequi_batches_done_in_epoch'


def _log(msg: str, level: int = logging.INFO) -> None:
    from mmengine.logging import print_log
    print_log(msg, logger='current', level=level)


# --------------------------------------------------------------------------
# finding the checkpoint to resume from
# --------------------------------------------------------------------------
def checkpoint_progress(path: str) -> Optional[Tuple[int, int]]:
    """``(iter, epoch)`` from the meta of a complete runner checkpoint.

    Returns None when ``path`` is not a complete zip-format checkpoint (a
    truncated write has no zip central directory) or has no
    ``meta.iter``. Tensor storages are memory-mapped, not read.
    """
    try:
        with zipfile.ZipFile(path) as zf:
            zf.infolist()
    except (OSError, zipfile.BadZipFile):
        return None
    try:
        ckpt = load_checkpoint_file(path, map_location='cpu', mmap=True)
    except Exception:  # noqa: B902  (any unreadable file is incomplete)
        return None
    meta = ckpt.get('meta') if isinstance(ckpt, dict) else None
    if not isinstance(meta, dict) or not isinstance(meta.get('iter'), int):
        return None
    return meta['iter'], int(meta.get('epoch', 0))


def _pointer_problem(work_dir: str) -> Tuple[Optional[str], str]:
    """The checkpoint ``work_dir/last_checkpoint`` names if it is complete
    (and ``''``), else ``(None, why it cannot be used)``."""
    pointer = osp.join(work_dir, 'last_checkpoint')
    if not osp.isfile(pointer):
        return None, f'{pointer} does not exist'
    with open(pointer) as f:
        target = f.read().strip()
    if not target:
        return None, f'{pointer} is empty'
    if not osp.isfile(target):
        return None, f'{pointer} names {target}, which does not exist'
    if checkpoint_progress(target) is None:
        return None, (f'{pointer} names {target}, which is incomplete or '
                      'not a runner checkpoint (no zip directory or no '
                      'meta.iter)')
    return target, ''


def find_resume_checkpoint(work_dir: str) -> Optional[str]:
    """The checkpoint ``resume=True`` (``--resume`` without a path) uses.

    ``work_dir/last_checkpoint`` when it names a complete checkpoint;
    otherwise the newest complete ``*.pth`` directly in ``work_dir`` by
    ``(meta.iter, meta.epoch)`` (an epoch checkpoint wins over an iteration
    checkpoint of the same iteration), with a WARNING saying which and why.
    None, with a WARNING that training starts from scratch, when the work
    dir holds neither ``last_checkpoint`` nor any ``*.pth`` (a first start
    of a job that always passes ``--resume``, e.g. a requeued SLURM job).

    Raises:
        FileNotFoundError: checkpoints were written (``last_checkpoint`` or
            ``*.pth`` exist) but none is complete.
    """
    target, why = _pointer_problem(work_dir)
    if target is not None:
        return target
    if not osp.exists(osp.join(work_dir, 'last_checkpoint')) and not \
            glob.glob(osp.join(work_dir, '*.pth')):
        _log(f'resume=True (--resume) but {work_dir} holds no checkpoint '
             '(no last_checkpoint, no *.pth): training starts from scratch',
             logging.WARNING)
        return None
    found: List[Tuple[Tuple[int, int], str]] = []
    for path in glob.glob(osp.join(work_dir, '*.pth')):
        progress = checkpoint_progress(path)
        if progress is not None:
            found.append((progress, path))
    if not found:
        raise FileNotFoundError(
            f'resume=True (--resume) but {why} and the work dir {work_dir} '
            'holds no complete checkpoint (*.pth with meta.iter); pass '
            '--resume PATH or start without --resume')
    (it, ep), best = max(found)
    _log(f'{why}; resuming from the newest complete checkpoint in '
         f'{work_dir} instead: {best} (iteration {it}, epoch {ep})',
         logging.WARNING)
    return best


def _find_latest_checkpoint(path: str) -> Optional[str]:
    """Stands in for ``mmengine.runner.runner.find_latest_checkpoint``."""
    return find_resume_checkpoint(path)


# --------------------------------------------------------------------------
# CheckpointHook
# --------------------------------------------------------------------------
def _remove_checkpoint(hook, step: int) -> None:
    path = hook.file_backend.join_path(hook.out_dir,
                                       hook.filename_tmpl.format(step))
    if hook.file_backend.isfile(path):
        hook.file_backend.remove(path)
    elif hook.file_backend.isdir(path):  # deepspeed checkpoints
        hook.file_backend.rmtree(path)


def _save_checkpoint_with_step(self, runner, step: int, meta: dict) -> None:
    """Save, point ``last_checkpoint`` at it, then rotate (in that order)."""
    from mmengine.dist import is_main_process
    outdated = None
    if self.max_keep_ckpts > 0 and not (
            self.keep_ckpt_ids and self.keep_ckpt_ids[-1] == step):
        if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
            outdated = self.keep_ckpt_ids.popleft()
        self.keep_ckpt_ids.append(step)
        runner.message_hub.update_info('keep_ckpt_ids',
                                       list(self.keep_ckpt_ids))
    filename = self.filename_tmpl.format(step)
    self.last_ckpt = self.file_backend.join_path(self.out_dir, filename)
    runner.message_hub.update_info('last_ckpt', self.last_ckpt)
    runner.save_checkpoint(
        self.out_dir, filename, self.file_client_args,
        save_optimizer=self.save_optimizer,
        save_param_scheduler=self.save_param_scheduler, meta=meta,
        by_epoch=self.by_epoch, backend_args=self.backend_args, **self.args)
    if not is_main_process():
        return
    atomic_write(self.last_ckpt, osp.join(runner.work_dir, 'last_checkpoint'))
    if outdated is not None:
        _remove_checkpoint(self, outdated)


def stale_temp_files(folder: str) -> List[str]:
    """Temp files of killed :func:`~mmequi.compat.checkpoint.atomic_write`
    calls for checkpoints and ``last_checkpoint`` in ``folder``."""
    pats = ('.*.pth.*.tmp', '.last_checkpoint.*.tmp')
    return sorted({p for pat in pats
                   for p in glob.glob(osp.join(folder, pat))})


def _before_train(self, runner) -> None:
    from mmengine.dist import is_main_process
    _ORIG['CheckpointHook.before_train'](self, runner)
    if not is_main_process():
        return
    folders = {runner.work_dir}
    if isinstance(self.out_dir, str) and osp.isdir(self.out_dir):
        folders.add(self.out_dir)
    stale = [p for d in sorted(folders) for p in stale_temp_files(d)]
    for p in stale:
        os.remove(p)
    if stale:
        runner.logger.info('removed temp files of interrupted checkpoint '
                           f'writes: {", ".join(stale)}')


def rng_state() -> Dict[str, Any]:
    """The main process's python, numpy, torch (and CUDA) random states."""
    state = {'python': random.getstate(), 'numpy': np.random.get_state(),
             'torch': torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: Dict[str, Any]) -> None:
    """Inverse of :func:`rng_state`."""
    random.setstate(state['python'])
    np.random.set_state(state['numpy'])
    torch.set_rng_state(state['torch'])
    if 'cuda' in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state['cuda'])


def _before_save_checkpoint(self, runner, checkpoint: dict) -> None:
    """Store the random state and the batches done in the saved epoch."""
    from mmengine.runner import EpochBasedTrainLoop
    meta = checkpoint.setdefault('meta', {})
    meta[RNG_KEY] = rng_state()
    loop = getattr(runner, '_train_loop', None)
    start = getattr(loop, '_mmequi_epoch_start_iter', None)
    if isinstance(loop, EpochBasedTrainLoop) and start is not None:
        # an iteration checkpoint stores the unfinished epoch, an epoch
        # checkpoint the next one (no batch of it done yet)
        meta[BATCHES_DONE_KEY] = (meta['iter'] - start
                                  if meta.get('epoch') == loop.epoch else 0)


def _after_load_checkpoint(self, runner, checkpoint: dict) -> None:
    from mmengine.runner import EpochBasedTrainLoop
    loop = getattr(runner, '_train_loop', None)
    if isinstance(loop, EpochBasedTrainLoop):
        loop._mmequi_resume_meta = dict(checkpoint.get('meta') or {})


# --------------------------------------------------------------------------
# EpochBasedTrainLoop
# --------------------------------------------------------------------------
def _batches_to_skip(loop) -> int:
    """Batches of ``loop.epoch`` already trained before the resume."""
    meta = getattr(loop, '_mmequi_resume_meta', None) or {}
    n = len(loop.dataloader)
    if BATCHES_DONE_KEY in meta:
        done = meta[BATCHES_DONE_KEY]
    else:  # a checkpoint written without these patches
        done = loop.iter - loop.epoch * n
    if not 0 <= done <= n:
        _log(f'resume: checkpoint iteration {loop.iter} does not lie in '
             f'epoch {loop.epoch} of {n} batches (batches per epoch changed '
             'since it was saved?); epoch starts at its first batch',
             logging.WARNING)
        return 0
    return done


def _run(self) -> torch.nn.Module:
    """``EpochBasedTrainLoop.run`` that does nothing on a finished run."""
    if self.iter > 0 and (self.epoch >= self.max_epochs
                          or self.iter >= self.max_iters):
        _log(f'the run is finished (epoch {self.epoch}/{self.max_epochs}, '
             f'iteration {self.iter}/{self.max_iters}); nothing to train')
        return self.runner.model
    return _ORIG['EpochBasedTrainLoop.run'](self)


def _run_epoch(self) -> None:
    """One epoch; after a mid-epoch resume, only its untrained batches."""
    skip = _batches_to_skip(self) if self.iter > 0 else 0
    meta = getattr(self, '_mmequi_resume_meta', None) or {}
    self._mmequi_resume_meta = None  # only the first epoch after resume
    self._mmequi_epoch_start_iter = self.iter - skip
    self.runner.call_hook('before_train_epoch')
    self.runner.model.train()
    batches = iter(self.dataloader)
    if skip:
        self.runner.logger.info(
            f'resuming inside epoch {self.epoch} at iteration {self.iter}: '
            f'drawing and dropping the {skip} of {len(self.dataloader)} '
            'batches trained before the checkpoint')
        for _ in range(skip):
            next(batches)
        _restore_rng(self.runner, meta)
    for idx, data_batch in enumerate(batches, start=skip):
        self.run_iter(idx, data_batch)
    self.runner.call_hook('after_train_epoch')
    self._epoch += 1


def _restore_rng(runner, meta: dict) -> None:
    if runner.world_size > 1:
        runner.logger.warning(
            'resume inside an epoch with several processes: the checkpoint '
            'holds only rank 0 random state, so each rank continues from '
            'its epoch seed plus the dropped batches; random numbers drawn '
            'in the training step (dropout, masks) may differ from an '
            'uninterrupted run')
    elif RNG_KEY in meta:
        set_rng_state(meta[RNG_KEY])
    else:
        runner.logger.warning(
            f'resume inside an epoch from a checkpoint without {RNG_KEY} '
            '(written before mmequi stored it): random numbers drawn in the '
            'training step may differ from an uninterrupted run')


_ORIG: Dict[str, Any] = {}


def install() -> str:
    import mmengine.runner.runner as runner_module
    from mmengine.hooks import CheckpointHook
    from mmengine.runner import EpochBasedTrainLoop

    if CheckpointHook.before_train is _before_train:
        raise RuntimeError('mmequi.compat.resume.install() ran twice; '
                           'mmequi.compat.apply_compat() calls it once')
    _ORIG['CheckpointHook.before_train'] = CheckpointHook.before_train
    _ORIG['EpochBasedTrainLoop.run'] = EpochBasedTrainLoop.run
    CheckpointHook._save_checkpoint_with_step = _save_checkpoint_with_step
    CheckpointHook.before_train = _before_train
    CheckpointHook.before_save_checkpoint = _before_save_checkpoint
    CheckpointHook.after_load_checkpoint = _after_load_checkpoint
    EpochBasedTrainLoop.run = _run
    EpochBasedTrainLoop.run_epoch = _run_epoch
    runner_module.find_latest_checkpoint = _find_latest_checkpoint
    return ('checkpoint rotation after the new save, atomic '
            'last_checkpoint, resume fallback to the newest complete '
            'checkpoint, stale temp files removed, exact mid-epoch resume, '
            'finished runs not extended')
