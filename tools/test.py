"""Evaluate a checkpoint with any mmpretrain / mmseg / mmdet / mmpose config.

Examples::

    python tools/test.py CONFIG CHECKPOINT
    python tools/test.py CONFIG CHECKPOINT --out results.pkl
    tools/dist_test.sh CONFIG CHECKPOINT 8
"""
import argparse
import json
import os
import os.path as osp

import mmequi  # noqa: F401  (compat layer before any toolbox import)
from mmengine.config import Config
from mmengine.evaluator import DumpResults

from mmequi.utils.cli import (add_common_args, apply_common_args,
                              build_runner, finish_args, fix_dataloader,
                              log_setup, release_process_group,
                              setup_slurm_master_addr)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Test (evaluate) a model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--out', help='also dump the raw predictions '
                        '(a .pkl file) for offline analysis')
    parser.add_argument('--metrics-out',
                        help='also write the metrics as JSON (rank 0), e.g. '
                        'for tools/benchmarks/run_transfer_suite.py')
    add_common_args(parser)
    return finish_args(parser, argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint {args.checkpoint} not found')
    if args.metrics_out is not None and not args.metrics_out.endswith(
            '.json'):
        raise ValueError(f'--metrics-out {args.metrics_out}: must end with '
                         f'.json')
    if args.out is not None and not args.out.endswith(('.pkl', '.pickle')):
        raise ValueError(f'--out {args.out}: must end with .pkl or .pickle')
    setup_slurm_master_addr(args.launcher)
    cfg = apply_common_args(Config.fromfile(args.config), args)
    for key in ('test_dataloader', 'test_cfg', 'test_evaluator'):
        if cfg.get(key) is None:
            raise KeyError(f'{args.config} has no {key}; cannot test')
    cfg.load_from = args.checkpoint
    cfg.resume = False
    fix_dataloader(cfg, 'test_dataloader')

    runner = build_runner(cfg)
    log_setup(runner)
    if args.out is not None:
        runner.test_evaluator.metrics.append(
            DumpResults(out_file_path=args.out))
    metrics = runner.test()
    if args.metrics_out is not None and runner.rank == 0:
        write_metrics(metrics, args.metrics_out, args.config, args.checkpoint)
    release_process_group()
    return metrics


def write_metrics(metrics: dict, path: str, config: str,
                  checkpoint: str) -> None:
    """``{'config', 'checkpoint', 'metrics': {name: float}}`` as JSON
    (non-scalar entries, e.g. per-class tables, are left out and listed)."""
    scalars, skipped = {}, []
    for key, value in metrics.items():
        try:
            scalars[key] = float(value)
        except (TypeError, ValueError):
            skipped.append(key)
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    with open(path, 'w') as f:
        json.dump(dict(config=osp.abspath(config),
                       checkpoint=osp.abspath(checkpoint), metrics=scalars,
                       non_scalar=skipped), f, indent=2)


if __name__ == '__main__':
    main()
