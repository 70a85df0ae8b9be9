"""Evaluate a checkpoint with any mmpretrain / mmseg / mmdet / mmpose config.

Examples::

    python tools/test.py CONFIG CHECKPOINT
    python tools/test.py CONFIG CHECKPOINT --out results.pkl
    tools/dist_test.sh CONFIG CHECKPOINT 8
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..')))

import mmequi  # noqa: E402,F401  (compat layer before any toolbox import)
from mmengine.config import Config  # noqa: E402
from mmengine.evaluator import DumpResults  # noqa: E402

# tools/ is on sys.path when this file runs as a script: share train.py's
# runner construction.
from train import (add_common_args, build_runner, default_work_dir,  # noqa: E402,E501
                   finish_args, log_setup, setup_slurm_master_addr)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Test (evaluate) a model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--out', help='also dump the raw predictions '
                        '(a .pkl file) for offline analysis')
    add_common_args(parser)
    return finish_args(parser, argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint {args.checkpoint} not found')
    if args.out is not None and not args.out.endswith(('.pkl', '.pickle')):
        raise ValueError(f'--out {args.out}: must end with .pkl or .pickle')
    setup_slurm_master_addr(args.launcher)
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    default_work_dir(cfg, args.work_dir, args.config)
    for key in ('test_dataloader', 'test_cfg', 'test_evaluator'):
        if cfg.get(key) is None:
            raise KeyError(f'{args.config} has no {key}; cannot test')
    cfg.load_from = args.checkpoint
    cfg.resume = False

    runner = build_runner(cfg)
    log_setup(runner)
    if args.out is not None:
        runner.test_evaluator.metrics.append(
            DumpResults(out_file_path=args.out))
    return runner.test()


if __name__ == '__main__':
    main()
