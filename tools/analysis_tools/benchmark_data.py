"""Benchmark a config's training data pipeline: per-op profile and
DataLoader images/s at several worker counts.

    python tools/analysis_tools/benchmark_data.py CONFIG \
        [--workers 0 1 2 4] [--images 256] [--batch-size 32] [--files 16] \
        [--profile] [--profile-images 64] [--json out.json] \
        [--cfg-options ...]

1. Writes ``--files`` photo-like JPEGs of ImageNet-like sizes (500 x 375,
   375 x 500, 640 x 480, 800 x 600, ...; :func:`mmequi.utils.
   write_photo_jpegs`) into a temporary folder.
2. ``--profile``: runs the config's training pipeline on them in this
   process on one thread and reports ms per image of every transform and,
   inside ``iBOTMultiCrop``, of every op (:func:`mmequi.utils.pipeline_bench.
   profile_pipeline`).
3. For each ``--workers`` N: ``--images`` samples through a
   ``torch.utils.data.DataLoader`` with N worker processes (0: in this
   process), batch ``--batch-size``, the config's collate function; reports
   images/s over the whole run and in the steady state (after the first
   batch).

The modelled rate of a 16-worker host is 16 x the steady rate with one
worker (workers scale linearly while each has a core of its own and the
consumer keeps up); with 2+ workers measured, the table also shows the
measured scaling efficiency ``rate(N) / (N x rate(1))``, which is only
meaningful on a machine with at least N idle cores.
"""
import argparse
import json
import os
import os.path as osp
import platform
import tempfile
import time
from typing import Dict, List, Optional

import mmequi  # noqa: F401
import torch
from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope

from mmequi.utils import write_photo_jpegs
from mmequi.utils.pipeline_bench import loader_throughput, profile_pipeline

#: worker count the modelled host rate is given for (issue 13's H200 host)
MODEL_WORKERS = 16


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('config')
    p.add_argument('--workers', type=int, nargs='+', default=[0, 1],
                   help='DataLoader worker counts to time (0: in-process)')
    p.add_argument('--images', type=int, default=256,
                   help='samples per DataLoader run')
    p.add_argument('--batch-size', type=int, default=32)
    p.add_argument('--files', type=int, default=16,
                   help='JPEG files written (cycled)')
    p.add_argument('--profile', action='store_true',
                   help='ms per image per transform / op on 1 thread')
    p.add_argument('--profile-images', type=int, default=64)
    p.add_argument('--json', help='write the results to this JSON file')
    p.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = p.parse_args(argv)
    for name in ('images', 'batch_size', 'files', 'profile_images'):
        if getattr(args, name) < 1:
            p.error(f'--{name.replace("_", "-")} must be >= 1, got '
                    f'{getattr(args, name)}')
    if any(n < 0 for n in args.workers):
        p.error(f'--workers must be >= 0, got {args.workers}')
    return args


def modelled_rate(runs: List[dict]) -> Dict[str, Optional[float]]:
    """``MODEL_WORKERS`` x the steady images/s of the 1-worker run, and
    the scaling efficiency of every multi-worker run against it."""
    by_n = {r['workers']: r for r in runs}
    one = by_n.get(1)
    base = None if one is None else (one['steady_images_per_s'] or
                                     one['images_per_s'])
    out: Dict[str, Optional[float]] = {
        'per_worker_images_per_s': base,
        f'modelled_images_per_s_{MODEL_WORKERS}_workers':
            None if base is None else MODEL_WORKERS * base}
    for n, r in sorted(by_n.items()):
        if n >= 2 and base:
            rate = r['steady_images_per_s'] or r['images_per_s']
            out[f'scaling_efficiency_{n}_workers'] = rate / (n * base)
    return out


def print_report(result: dict) -> None:
    print(f"config      {result['config']}")
    print(f"machine     {result['machine']}   (timings are wall clock; on "
          'a shared machine compare runs interleaved)')
    prof = result.get('profile')
    if prof:
        print(f"profile     1 thread, ms per image "
              f"(total {prof['total_ms']:.2f} ms = "
              f"{1000 / prof['total_ms']:.1f} images/s)")
        for name, ms in prof['transforms_ms'].items():
            print(f'  {name:<34} {ms:8.3f}')
        if prof['ops_ms']:
            print('  inside the multi-crop:')
            for name, ms in sorted(prof['ops_ms'].items(),
                                   key=lambda kv: -kv[1]):
                print(f'    {name:<32} {ms:8.3f}')
    print(f"{'workers':>8} {'images':>7} {'batch':>6} {'wall s':>8} "
          f"{'img/s':>9} {'steady img/s':>13}")
    for r in result['loader']:
        steady = '-' if r['steady_images_per_s'] is None else \
            f"{r['steady_images_per_s']:.1f}"
        print(f"{r['workers']:>8} {r['images']:>7} {r['batch_size']:>6} "
              f"{r['wall_s']:>8.2f} {r['images_per_s']:>9.1f} "
              f'{steady:>13}')
    model = result['model']
    key = f'modelled_images_per_s_{MODEL_WORKERS}_workers'
    if model[key] is not None:
        print(f"modelled    {model[key]:.0f} images/s with {MODEL_WORKERS} "
              f"workers (= {MODEL_WORKERS} x "
              f"{model['per_worker_images_per_s']:.1f}, 1-worker steady "
              'rate)')
    for k, v in model.items():
        if k.startswith('scaling_efficiency'):
            print(f'            {k} {v:.2f}')


def main(argv: Optional[List[str]] = None) -> dict:
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    result = dict(config=osp.relpath(args.config),
                  machine=f'{platform.processor() or platform.machine()}, '
                          f'{os.cpu_count()} cores',
                  torch=torch.__version__, date=time.strftime('%Y-%m-%d'),
                  files=args.files)
    with tempfile.TemporaryDirectory() as tmp:
        paths = write_photo_jpegs(tmp, args.files)
        if args.profile:
            result['profile'] = profile_pipeline(cfg, paths,
                                                 args.profile_images)
        result['loader'] = [
            loader_throughput(cfg, paths, args.images, n, args.batch_size)
            for n in args.workers]
    result['model'] = modelled_rate(result['loader'])
    print_report(result)
    if args.json:
        os.makedirs(osp.dirname(osp.abspath(args.json)), exist_ok=True)
        with open(args.json, 'w') as f:
            json.dump(result, f, indent=2)
    return result


if __name__ == '__main__':
    main()
