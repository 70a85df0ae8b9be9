"""Command-line plumbing shared by ``tools/train.py`` and ``tools/test.py``.

The arguments both tools take (``--work-dir``, ``--cfg-options``,
``--launcher``, ``--local-rank``), how they are applied to a config, the
work-directory default, the dataloader fix-up, the SLURM master address,
runner construction and the setup lines every run logs. Importing this
module imports :mod:`mmequi` first, so the compatibility layer is active
before any toolbox is imported.
"""
import argparse
import logging
import os
import os.path as osp
import subprocess
from typing import Optional, Sequence

from mmengine.config import Config, DictAction
from mmengine.logging import print_log
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from ..compat import describe

__all__ = [
    'DATALOADERS', 'add_common_args', 'finish_args', 'apply_common_args',
    'default_work_dir', 'fix_dataloader', 'setup_slurm_master_addr',
    'build_runner', 'log_setup'
]

#: The config fields of the three dataloaders.
DATALOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def add_common_args(parser: argparse.ArgumentParser) -> None:
    """Add the arguments shared by tools/train.py and tools/test.py."""
    parser.add_argument('--work-dir', help='where to save logs and models '
                        '(default: ./work_dirs/<config name>)')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config settings, key=value (e.g. '
        'train_cfg.max_epochs=3 randomness.seed=0)')
    parser.add_argument(
        '--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def finish_args(parser: argparse.ArgumentParser,
                argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Parse ``argv`` and export ``LOCAL_RANK`` from ``--local-rank`` unless
    the launcher already set it."""
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def default_work_dir(cfg: Config, work_dir: Optional[str],
                     config_path: str) -> None:
    """``cfg.work_dir``: ``work_dir`` if given, else the config's own, else
    ``./work_dirs/<config file name without .py>``."""
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(config_path))[0])


def apply_common_args(cfg: Config, args: argparse.Namespace) -> Config:
    """Apply :func:`add_common_args`' arguments to ``cfg`` (launcher,
    ``--cfg-options``, work directory); returns ``cfg``."""
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    default_work_dir(cfg, args.work_dir, args.config)
    return cfg


def fix_dataloader(cfg: Config, field: str) -> None:
    """``persistent_workers=False`` when ``cfg[field]`` has
    ``num_workers=0`` (torch's DataLoader raises for that combination)."""
    loader = cfg.get(field)
    if not loader:
        return
    if loader.get('num_workers', 0) == 0 and loader.get('persistent_workers'):
        print_log(f'{field}: num_workers=0, so persistent_workers=False',
                  logger='current')
        loader.persistent_workers = False


def setup_slurm_master_addr(launcher: str) -> None:
    """On clusters whose fast network has its own host names (JUWELS: append
    ``i``), set ``MMEQUI_MASTER_ADDR_SUFFIX``; MASTER_ADDR is then the first
    node of the allocation plus that suffix."""
    suffix = os.environ.get('MMEQUI_MASTER_ADDR_SUFFIX')
    if launcher != 'slurm' or not suffix or 'MASTER_ADDR' in os.environ:
        return
    first = subprocess.check_output(
        ['scontrol', 'show', 'hostnames', os.environ['SLURM_NODELIST']],
        text=True).split()[0]
    os.environ['MASTER_ADDR'] = first + suffix


def build_runner(cfg: Config) -> Runner:
    """``cfg.runner_type`` from ``RUNNERS`` if set, else mmengine's
    :class:`Runner`; warns when the config sets no ``default_scope``."""
    if cfg.get('default_scope') is None:
        print_log(
            'the config sets no default_scope; registries fall back to '
            "mmengine's. Set default_scope='mmpretrain'/'mmseg'/'mmdet'/"
            "'mmpose'.", logger='current', level=logging.WARNING)
    if 'runner_type' in cfg:
        return RUNNERS.build(cfg)
    return Runner.from_cfg(cfg)


def log_setup(runner: Runner) -> None:
    """Write the compat layer's state and the process layout to the log."""
    import torch.distributed as torch_dist
    for name, text in describe().items():
        runner.logger.info(f'mmequi compat [{name}]: {text}')
    backend = (torch_dist.get_backend()
               if torch_dist.is_available() and torch_dist.is_initialized()
               else 'none')
    runner.logger.info(f'world size: {runner.world_size}, rank: '
                       f'{runner.rank}, torch.distributed backend: {backend}')


def release_process_group() -> None:
    """Destroy the default process group, if one was initialised, at the
    end of a tool's ``main``. Left to interpreter exit, gloo's worker
    threads may still hold tensors while Python tears down, and the rank
    aborts ("terminate called without an active exception", SIGABRT) after
    a successful run. A no-op in a non-distributed run."""
    import torch.distributed as dist
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
