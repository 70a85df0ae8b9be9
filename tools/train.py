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
import os.path as osp

import mmequi  # noqa: F401  (compat layer before any toolbox import)
from mmengine.config import Config

from mmequi.engine import (FiniteLossGuardHook, NonFiniteLossError,
                           PrecisionLoggerHook)
from mmequi.utils.cli import (DATALOADERS, add_common_args,
                              apply_common_args, build_runner, finish_args,
                              fix_dataloader, log_setup,
                              release_process_group,
                              setup_slurm_master_addr)


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


def merge_args(cfg: Config, args: argparse.Namespace) -> Config:
    """Apply the command line to the config (as OpenMMLab's train.py)."""
    apply_common_args(cfg, args)

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

    for field in DATALOADERS:
        fix_dataloader(cfg, field)
    add_finite_loss_guard(cfg)
    return cfg


#: optimizer wrappers that can check the loss before the optimizer step
GUARDED_WRAPPERS = ('SSLOptimWrapper', 'SSLAmpOptimWrapper')


def add_finite_loss_guard(cfg: Config) -> None:
    """Append ``dict(type='FiniteLossGuardHook')`` (stop on a non-finite
    loss, issue 14) to ``cfg.custom_hooks`` when the optimizer wrapper is an
    SSL one and the config does not configure the hook itself (then its
    entry, e.g. ``mode='skip'`` or ``mode='off'``, is kept as it is)."""
    wrapper = (cfg.get('optim_wrapper') or {}).get('type')
    if wrapper not in GUARDED_WRAPPERS:
        return
    hooks = list(cfg.get('custom_hooks') or [])
    if not any(h.get('type') in ('FiniteLossGuardHook', FiniteLossGuardHook)
               for h in hooks):
        hooks.append(dict(type='FiniteLossGuardHook'))
    cfg.custom_hooks = hooks


def main(argv=None) -> None:
    args = parse_args(argv)
    setup_slurm_master_addr(args.launcher)
    cfg = Config.fromfile(args.config)
    cfg = merge_args(cfg, args)
    runner = build_runner(cfg)
    log_setup(runner)
    runner.register_hook(PrecisionLoggerHook())
    try:
        runner.train()
    except NonFiniteLossError as e:
        # the hook logged it; end with that line and exit code 1, no trace
        raise SystemExit(f'NonFiniteLossError: {e}') from None
    release_process_group()


if __name__ == '__main__':
    main()
