"""Train any mmpretrain / mmseg / mmdet / mmpose config (with mmequi).

The config's ``default_scope`` picks the toolbox. ``mmequi`` is imported
before the config is read, so its compatibility layer (mmcv op backend,
safe checkpoints, CPU distributed and AMP) is active even for unmodified
upstream configs.

Examples::

    python tools/train.py CONFIG
    python tools/train.py CONFIG --resume                # latest in work dir
    python tools/train.py CONFIG --resume work_dirs/x/epoch_2.pth
    tools/dist_train.sh CONFIG 8 --amp
"""
import argparse
import logging
import os
import os.path as osp
import subprocess
import sys

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..')))

import mmequi  # noqa: E402,F401  (compat layer before any toolbox import)
from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.logging import print_log  # noqa: E402
from mmengine.registry import RUNNERS  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

from mmequi.compat import describe  # noqa: E402
from mmequi.engine import PrecisionLoggerHook  # noqa: E402


def add_common_args(parser: argparse.ArgumentParser) -> None:
    """Arguments shared by tools/train.py and tools/test.py."""
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
                argv=None) -> argparse.Namespace:
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument(
        '--resume', nargs='?', type=str, const='auto',
        help='resume from this checkpoint, or (no value) from the latest '
        'checkpoint in the work directory')
    parser.add_argument(
        '--amp', action='store_true',
        help='mixed precision: AmpOptimWrapper (fp16 + loss scaling on '
        'GPU unless the config sets dtype; bfloat16 on CPU)')
    parser.add_argument(
        '--auto-scale-lr', action='store_true',
        help='scale the lr linearly with the actual total batch size '
        '(needs auto_scale_lr.base_batch_size in the config)')
    parser.add_argument(
        '--no-validate', action='store_true',
        help='skip validation during training')
    add_common_args(parser)
    return finish_args(parser, argv)


def default_work_dir(cfg: Config, work_dir, config_path: str) -> None:
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(config_path))[0])


def _fix_dataloader(cfg: Config, field: str) -> None:
    loader = cfg.get(field)
    if not loader:
        return
    if loader.get('num_workers', 0) == 0 and loader.get('persistent_workers'):
        # torch's DataLoader raises for this combination.
        print_log(f'{field}: num_workers=0, so persistent_workers=False',
                  logger='current')
        loader.persistent_workers = False


def merge_args(cfg: Config, args: argparse.Namespace) -> Config:
    """Apply the command line to the config (as OpenMMLab's train.py)."""
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)

    default_work_dir(cfg, args.work_dir, args.config)

    if args.no_validate:
        cfg.val_cfg = None
        cfg.val_dataloader = None
        cfg.val_evaluator = None

    if args.amp:
        wrapper = cfg.optim_wrapper.get('type', 'OptimWrapper')
        amp_of = {'OptimWrapper': 'AmpOptimWrapper',
                  'SSLOptimWrapper': 'SSLAmpOptimWrapper'}
        if wrapper not in amp_of and wrapper not in amp_of.values():
            raise ValueError(
                f'--amp needs optim_wrapper.type in {sorted(amp_of)} or '
                f'their AMP variants; the config has {wrapper!r}')
        cfg.optim_wrapper.type = amp_of.get(wrapper, wrapper)
        for key in ('dtype', 'loss_scale'):
            if cfg.optim_wrapper.get(key, 'unset') is None:
                cfg.optim_wrapper.pop(key)
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')

    if args.auto_scale_lr:
        if not cfg.get('auto_scale_lr', {}).get('base_batch_size'):
            raise ValueError(
                '--auto-scale-lr needs auto_scale_lr=dict(base_batch_size=N) '
                f'in {args.config}')
        cfg.auto_scale_lr.enable = True

    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        if not osp.isfile(args.resume):
            raise FileNotFoundError(
                f'--resume {args.resume}: no such checkpoint file')
        cfg.resume = True
        cfg.load_from = args.resume

    for field in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        _fix_dataloader(cfg, field)
    return cfg


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


def main(argv=None) -> None:
    args = parse_args(argv)
    setup_slurm_master_addr(args.launcher)
    cfg = Config.fromfile(args.config)
    cfg = merge_args(cfg, args)
    runner = build_runner(cfg)
    log_setup(runner)
    runner.register_hook(PrecisionLoggerHook())
    runner.train()


if __name__ == '__main__':
    main()
