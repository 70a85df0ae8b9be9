"""Per-epoch reseeding: reproducible augmentation that survives ``--resume``.

mmengine seeds the random generators once, when the runner is built, and its
default ``worker_init_fn`` seeds every dataloader worker with
``seed + rank * num_workers + worker_id``. Two consequences for SSL, where
the augmentations *are* the training signal:

* with ``persistent_workers=False`` every epoch replays the same crops, flips
  and masks (the workers are re-created with the same seed each epoch);
* after ``--resume`` the generators restart from the initial seed, so epoch
  ``k`` of a resumed run sees different randomness than epoch ``k`` of an
  uninterrupted run.

:class:`EpochSeedHook` reseeds Python, numpy and torch (CPU and CUDA) in the
main process at the start of every training epoch from
``(randomness.seed, epoch, rank)``; :func:`epoch_worker_init_fn` derives each
worker's numpy/random seeds from torch's per-worker seed, which the
DataLoader draws from the (reseeded) main-process generator when the epoch's
iterator is created. Epoch ``k`` then sees the same random numbers whether or
not the run was resumed, provided workers are not persistent
(``persistent_workers=False`` or ``num_workers=0``); ranks and workers see
different streams.

Persistent workers (``persistent_workers=True`` with ``num_workers > 0``)
keep their numpy/random state across epochs, which a resumed run cannot
restore: :class:`EpochSeedHook` then warns once, naming
``train_dataloader.persistent_workers`` (issue 14).
"""
import random

import numpy as np
import torch
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.registry import FUNCTIONS, HOOKS


def epoch_seed(seed: int, epoch: int, rank: int) -> int:
    """A 32-bit seed that differs for every (seed, epoch, rank)."""
    ss = np.random.SeedSequence([seed & 0xFFFFFFFF, epoch, rank])
    return int(ss.generate_state(1)[0])


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device


@FUNCTIONS.register_module()
def epoch_worker_init_fn(worker_id: int) -> None:
    """Seed numpy and ``random`` in a dataloader worker from torch's worker
    seed (``base_seed + worker_id``, drawn per epoch in the main process)."""
    seed = torch.initial_seed() % 2**32
    np.random.seed(seed)
    random.seed(seed)


def persistent_workers_warning(loader_cfg: dict) -> str:
    """The warning for a train loader whose workers persist across epochs
    (``num_workers > 0`` and ``persistent_workers=True``), '' otherwise."""
    workers = loader_cfg.get('num_workers', 0)
    if not (workers and loader_cfg.get('persistent_workers', False)):
        return ''
    return (
        f'EpochSeedHook: train_dataloader.persistent_workers=True with '
        f'num_workers={workers}: persistent workers keep their random state '
        f'across epochs, which --resume cannot restore, so a resumed run '
        f'draws other augmentations than an uninterrupted one (no '
        f'bit-identical resume). Set train_dataloader.persistent_workers='
        f'False (or num_workers=0); README "Seeds and determinism"')


@HOOKS.register_module()
class EpochSeedHook(Hook):
    """Reseed all generators at the start of each training epoch.

    Requires ``randomness=dict(seed=...)`` in the config (a clear error
    otherwise). Use together with
    ``worker_init_fn=dict(type='epoch_worker_init_fn')`` in the train
    dataloader, and ``persistent_workers=False`` there when it has workers
    (a warning otherwise: resume is then not exact).
    """

    priority = 'VERY_HIGH'

    def before_train(self, runner) -> None:
        if runner.seed is None:
            raise ValueError(
                'EpochSeedHook needs a seed: set randomness=dict(seed=...) '
                'in the config')
        loader_cfg = runner.cfg.get('train_dataloader') or {}
        init_fn = (loader_cfg.get('worker_init_fn') or {}).get('type')
        if loader_cfg.get('num_workers', 0) > 0 and init_fn not in (
                'epoch_worker_init_fn', epoch_worker_init_fn):
            raise ValueError(
                'EpochSeedHook: train_dataloader uses workers but not '
                "worker_init_fn=dict(type='epoch_worker_init_fn'); mmengine's "
                'default worker seeding ignores the epoch')
        warning = persistent_workers_warning(loader_cfg)
        if warning:
            runner.logger.warning(warning)

    def before_train_epoch(self, runner) -> None:
        seed_everything(epoch_seed(runner.seed, runner.epoch, get_rank()))
