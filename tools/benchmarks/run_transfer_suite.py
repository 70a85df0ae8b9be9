"""The dense transfer suite in one command: export, fine-tune, test, table.

For one pretraining checkpoint: export the backbone in the formats the
configs need (``tools/model_converters/extract_backbone.py``), then for every
task train with ``tools/train.py`` (1 process), ``tools/dist_train.sh`` (N
processes) or ``tools/slurm_train.sh`` (``--slurm PARTITION``), test the last
checkpoint with the matching test tool, and collect the metrics into
``WORK_DIR/summary.md`` (+ ``summary.json``)::

    tools/benchmarks/run_transfer_suite.sh CKPT 8 \\
        --data-root ade20k=data/ade/ADEChallengeData2016 coco=data/coco \\
        mpii=data/mpii nyu=data/nyu
    GPUS_PER_NODE=8 tools/benchmarks/run_transfer_suite.sh CKPT 16 \\
        --slurm gpu --arch large

Tasks (``--tasks``; default: the first eight): ``ade20k`` (UPerNet, mIoU),
``coco`` (Mask R-CNN, box/mask AP), ``coco-pose`` (ViTPose-style top-down
heatmaps, AP), ``mpii`` (PCKh), ``depth-nyu`` (NYU-Depth-v2, DPT-style
head, RMSE in m and AbsRel, lower is better), ``homography`` (S-COCO, mean
corner error in px), ``knn-in1k`` (k-NN top-1, test only, on the
pretraining checkpoint itself), ``linear-in1k`` (linear probe top-1), and with ``--tasks all`` or
by name ``linear-<ds>`` / ``finetune-<ds>`` for ds in cifar10, cifar100,
aircraft, pets, food101, flowers102, inat18 (and ``finetune-in1k``). A task whose work directory exists is refused unless ``--force``
(nothing is overwritten silently); the table is built from every task's
``metrics.json`` present in the work directory, so a task can be rerun
alone.
"""
import argparse
import json
import os
import os.path as osp
import shlex
import subprocess
import sys
import time
from typing import Dict, List, Optional, Sequence

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
TOOLS = osp.join(REPO, 'tools')
BENCH = osp.join(REPO, 'configs', 'benchmarks')

#: task -> config (``{arch}`` = small|large), export kind ('cls', 'nocls' or
#: None: the pretraining checkpoint itself, test only), metrics shown
#: (column title, logged key, scale), the data-root name it reads, keys
#: that hold paths under the data root (resolved when the config is read,
#: so they must be set too) and, optionally, the table's decimals (2)
TASKS: Dict[str, dict] = {
    'ade20k': dict(
        config='mmseg/upernet_vit-{arch}-p16_8xb2-12e_ade20k-512x512.py',
        export='cls', metrics=[('ADE20K mIoU', 'mIoU', 1.0)],
        dataset='ade20k', root_keys={}),
    'coco': dict(
        config='mmdet/mask-rcnn_vit-{arch}-p16_simplefpn_8xb2-1x_coco.py',
        export='cls',
        metrics=[('COCO AP box', 'coco/bbox_mAP', 100.0),
                 ('COCO AP mask', 'coco/segm_mAP', 100.0)],
        dataset='coco', root_keys={
            'val_evaluator.ann_file': 'annotations/instances_val2017.json',
            'test_evaluator.ann_file': 'annotations/instances_val2017.json'}),
    'coco-pose': dict(
        config='mmpose/td-hm_vit-{arch}-p16_8xb64-12e_coco-256x192.py',
        export='nocls', metrics=[('COCO keypoint AP', 'coco/AP', 100.0)],
        dataset='coco', root_keys={
            'val_evaluator.ann_file':
                'annotations/person_keypoints_val2017.json',
            'test_evaluator.ann_file':
                'annotations/person_keypoints_val2017.json'}),
    'mpii': dict(
        config='mmpose/td-hm_vit-{arch}-p16_8xb64-12e_mpii-256x256.py',
        export='nocls', metrics=[('MPII PCKh@0.5', 'PCK', 1.0)],
        dataset='mpii', root_keys={
            'val_dataloader.dataset.headbox_file':
                'annotations/mpii_gt_val.mat',
            'test_dataloader.dataset.headbox_file':
                'annotations/mpii_gt_val.mat'}),
    'homography': dict(
        config='homography/homography_vit-{arch}-p16_8xb64-12e_s-coco.py',
        export='cls',
        metrics=[('S-COCO corner error (px)', 'homography/mace', 1.0)],
        dataset='coco', root_keys={}),
    # errors: lower is better (the titles say so; ASCII, as the table
    # files are written in the locale's encoding); 3 decimals in the table
    'depth-nyu': dict(
        config='mmseg/depth_vit-{arch}-p16_8xb2-12e_nyu-480x480.py',
        export='cls',
        metrics=[('NYU RMSE (m, lower is better)', 'rmse', 1.0),
                 ('NYU AbsRel (lower is better)', 'abs_rel', 1.0)],
        dataset='nyu', root_keys={}, decimals=3),
    'knn-in1k': dict(
        config='classification/knn_vit-{arch}-p16_8xb128_in1k.py',
        export=None, metrics=[('ImageNet k-NN', 'knn/top1', 1.0)],
        dataset='imagenet',
        root_keys={'test_cfg.bank_dataloader.dataset.data_root': ''}),
}
#: linear probe (20 epochs) and fine-tuning (50 epochs) per dataset
#: (configs/benchmarks/classification/; ViT-L configs exist for ImageNet)
CLS_DATASETS = {'in1k': ('imagenet', 'ImageNet'),
                'cifar10': ('cifar10', 'CIFAR-10'),
                'cifar100': ('cifar100', 'CIFAR-100'),
                'aircraft': ('aircraft', 'Aircraft'),
                'pets': ('pets', 'Pets'), 'food101': ('food101', 'Food-101'),
                'flowers102': ('flowers102', 'Flowers'),
                'inat18': ('inat18', 'iNat18')}
for _ds, (_root, _title) in CLS_DATASETS.items():
    TASKS[f'linear-{_ds}'] = dict(
        config=f'classification/linear_vit-{{arch}}-p16_8xb128-20e_{_ds}.py',
        export='cls', metrics=[(f'{_title} linear', 'accuracy/top1', 1.0)],
        dataset=_root, root_keys={})
    TASKS[f'finetune-{_ds}'] = dict(
        config=f'classification/finetune_vit-{{arch}}-p16_8xb128-50e_'
        f'{_ds}.py',
        export='cls',
        metrics=[(f'{_title} fine-tune', 'accuracy/top1', 1.0)],
        dataset=_root, root_keys={})
#: what ``--tasks`` defaults to: the paper's dense suite, homography and
#: ImageNet k-NN / linear (``--tasks all`` adds every other linear probe and
#: every fine-tuning)
DEFAULT_TASKS = ('ade20k', 'coco', 'coco-pose', 'mpii', 'depth-nyu',
                 'homography', 'knn-in1k', 'linear-in1k')
DATASETS = sorted({spec['dataset'] for spec in TASKS.values()})


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Export a backbone, fine-tune and test it on the dense '
        'transfer suite, and tabulate the metrics')
    parser.add_argument('checkpoint', help='pretraining checkpoint (mmequi, '
                        'official iBOT/DINO, timm)')
    parser.add_argument('gpus', type=int, help='processes (GPUs) per task')
    parser.add_argument('--slurm', metavar='PARTITION',
                        help='run every job with tools/slurm_train.sh / '
                        'slurm_test.sh on this partition (GPUS_PER_NODE, '
                        'CPUS_PER_TASK, SRUN_ARGS are passed through)')
    parser.add_argument('--arch', choices=['small', 'large'],
                        default='small', help='ViT-S/16 or ViT-L/16 configs')
    parser.add_argument('--tasks', default=','.join(DEFAULT_TASKS),
                        help=f'comma-separated tasks, or "all" (default: '
                        f'{",".join(DEFAULT_TASKS)}); choose from '
                        f'{list(TASKS)}')
    parser.add_argument('--source', choices=['teacher', 'student'],
                        default='teacher')
    parser.add_argument('--work-dir', help='default: work_dirs/transfer/'
                        '<checkpoint name>')
    parser.add_argument('--name', help='row name in the table (default: '
                        'the checkpoint file name)')
    parser.add_argument('--data-root', nargs='+', default=[],
                        metavar='DATASET=PATH',
                        help=f'DATASET in {DATASETS} (default: the '
                        f"configs' data/ folders)")
    parser.add_argument('--cfg-options', nargs='+', default=[],
                        metavar='[TASK:]KEY=VALUE',
                        help='extra config options, for every task or, with '
                        'a TASK: prefix, for one')
    parser.add_argument('--force', action='store_true',
                        help='rerun tasks whose work directory exists')
    parser.add_argument('--dry-run', action='store_true',
                        help='print the commands only')
    args = parser.parse_args(argv)
    args.tasks = list(TASKS) if args.tasks == 'all' else \
        [t for t in args.tasks.split(',') if t]
    unknown = sorted(set(args.tasks) - set(TASKS))
    if unknown:
        parser.error(f'unknown tasks {unknown}; choose from {list(TASKS)}')
    if args.gpus < 1:
        parser.error('GPUS must be >= 1')
    return args


def _parse_roots(items: List[str]) -> Dict[str, str]:
    roots = {}
    for item in items:
        name, sep, path = item.partition('=')
        if not sep or name not in DATASETS:
            raise SystemExit(f'--data-root {item!r}: expected DATASET=PATH '
                             f'with DATASET in {DATASETS}')
        if not osp.isdir(path):
            raise SystemExit(f'--data-root {item!r}: {path} is not a '
                             f'directory')
        roots[name] = osp.abspath(path)
    return roots


def task_options(task: str, roots: Dict[str, str],
                 extra: List[str]) -> List[str]:
    """--cfg-options of one task: data root paths + the user's options."""
    opts = []
    root = roots.get(TASKS[task]['dataset'])
    if root is not None:
        splits = ('train', 'val', 'test') if TASKS[task]['export'] \
            else ('test',)  # test-only configs have no train/val loaders
        for split in splits:
            opts.append(f'{split}_dataloader.dataset.data_root={root}')
        for key, rel in TASKS[task]['root_keys'].items():
            opts.append(f'{key}={osp.join(root, rel) if rel else root}')
    for item in extra:
        prefix, sep, rest = item.partition(':')
        if sep and prefix in TASKS and '=' not in prefix:
            if prefix == task:
                opts.append(rest)
        else:
            opts.append(item)
    return opts


def _launch(tool: str, positional: List[str], rest: List[str],
            args: argparse.Namespace, job: str) -> List[str]:
    """The command line of train.py/test.py for the chosen launcher."""
    if args.slurm:
        script = 'slurm_train.sh' if tool == 'train' else 'slurm_test.sh'
        return [osp.join(TOOLS, script), args.slurm, job, *positional, *rest]
    if args.gpus == 1:
        return [sys.executable, osp.join(TOOLS, f'{tool}.py'), *positional,
                *rest]
    script = 'dist_train.sh' if tool == 'train' else 'dist_test.sh'
    return [osp.join(TOOLS, script), *positional, str(args.gpus), *rest]


def run(cmd: List[str], args: argparse.Namespace, log: str) -> None:
    line = ' '.join(shlex.quote(c) for c in cmd)
    print(f'$ {line}', flush=True)
    if args.dry_run:
        return
    env = dict(os.environ, PYTHON=sys.executable)
    if args.slurm:
        env['GPUS'] = str(args.gpus)
    start = time.time()
    with open(log, 'a') as f:
        f.write(f'$ {line}\n')
        f.flush()
        proc = subprocess.run(cmd, cwd=REPO, env=env, stdout=f,
                              stderr=subprocess.STDOUT)
    if proc.returncode != 0:
        with open(log) as f:
            tail = f.read()[-4000:]
        raise SystemExit(f'failed ({proc.returncode}) after '
                         f'{time.time() - start:.0f} s: {line}\n'
                         f'--- last lines of {log} ---\n{tail}')
    print(f'  done in {time.time() - start:.0f} s (log: {log})', flush=True)


def export(args: argparse.Namespace, work_dir: str, kinds: set) -> dict:
    out = {}
    for kind in sorted(kinds):
        path = osp.join(work_dir, f'backbone_{kind}.pth')
        cmd = [sys.executable,
               osp.join(TOOLS, 'model_converters', 'extract_backbone.py'),
               args.checkpoint, path, '--source', args.source, '--force']
        if kind == 'nocls':
            cmd.append('--drop-cls-token')
        run(cmd, args, osp.join(work_dir, 'export.log'))
        out[kind] = path
    return out


def task_config(task: str, arch: str) -> str:
    config = osp.join(BENCH, TASKS[task]['config'].format(arch=arch))
    if not osp.isfile(config):
        raise SystemExit(f'{task}: no ViT-{arch} config {config}')
    return config


def run_task(task: str, args: argparse.Namespace, work_dir: str,
             backbones: dict, roots: Dict[str, str]) -> None:
    """Train (unless the task is test-only) and test one task; the test
    tool writes ``WORK_DIR/TASK/metrics.json``."""
    spec = TASKS[task]
    config = task_config(task, args.arch)
    task_dir = osp.join(work_dir, task)
    os.makedirs(task_dir, exist_ok=True)
    log = osp.join(task_dir, 'suite.log')
    opts = task_options(task, roots, args.cfg_options)
    print(f'[{task}] {osp.relpath(config, REPO)}', flush=True)
    if spec['export'] is None:  # k-NN: loads the pretraining checkpoint
        ckpt = osp.abspath(args.checkpoint)
        opts.append(f'test_cfg.load_backbone={args.source}')
    else:
        opts.insert(0, f'model.backbone.init_cfg.checkpoint='
                    f'{backbones[spec["export"]]}')
        run(_launch('train', [config], ['--work-dir', task_dir,
                                        '--cfg-options', *opts],
                    args, f'mmequi-{task}'), args, log)
        last = osp.join(task_dir, 'last_checkpoint')
        if args.dry_run:
            ckpt = osp.join(task_dir, '<last checkpoint>')
        else:
            if not osp.isfile(last):
                raise SystemExit(f'{task}: training wrote no {last}')
            with open(last) as f:
                ckpt = f.read().strip()
    metrics = osp.join(task_dir, 'metrics.json')
    run(_launch('test', [config, ckpt],
                ['--work-dir', osp.join(task_dir, 'test'), '--metrics-out',
                 metrics, '--cfg-options', *opts], args, f'mmequi-{task}'),
        args, log)


def collect(work_dir: str, name: str) -> dict:
    """Metrics of every finished task in ``work_dir`` → table row."""
    row = {}
    for task, spec in TASKS.items():
        path = osp.join(work_dir, task, 'metrics.json')
        if not osp.isfile(path):
            continue
        with open(path) as f:
            logged = json.load(f)['metrics']
        for title, key, scale in spec['metrics']:
            if key not in logged:
                raise KeyError(f'{path}: no metric {key!r} (has '
                               f'{sorted(logged)})')
            row[title] = logged[key] * scale
    return {'name': name, 'metrics': row}


def markdown(rows: List[dict]) -> str:
    """One row per method; columns: the metrics any row has, in TASKS
    order."""
    decimals = {t: spec.get('decimals', 2) for spec in TASKS.values()
                for t, _, _ in spec['metrics']}
    titles = [t for t in decimals
              if any(t in row['metrics'] for row in rows)]
    lines = ['| method | ' + ' | '.join(titles) + ' |',
             '|---|' + '---:|' * len(titles)]
    for row in rows:
        cells = [f'{row["metrics"][t]:.{decimals[t]}f}'
                 if t in row['metrics'] else '–' for t in titles]
        lines.append(f'| {row["name"]} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines) + '\n'


def main(argv: Optional[Sequence[str]] = None) -> dict:
    args = parse_args(argv)
    if not osp.isfile(args.checkpoint):
        raise SystemExit(f'{args.checkpoint}: no such checkpoint file')
    roots = _parse_roots(args.data_root)
    stem = osp.splitext(osp.basename(args.checkpoint))[0]
    work_dir = osp.abspath(args.work_dir or
                           osp.join('work_dirs', 'transfer', stem))
    for task in args.tasks:
        task_dir = osp.join(work_dir, task)
        if osp.exists(task_dir) and not args.force and not args.dry_run:
            raise SystemExit(f'{task_dir} exists (an earlier run of {task}); '
                             f'pass --force to rerun it or --tasks to skip '
                             f'it')
    os.makedirs(work_dir, exist_ok=True)
    for task in args.tasks:
        task_config(task, args.arch)  # all configs exist before any job
    backbones = export(args, work_dir,
                       {TASKS[t]['export'] for t in args.tasks} - {None})
    for task in args.tasks:
        run_task(task, args, work_dir, backbones, roots)
    if args.dry_run:
        return {}
    row = collect(work_dir, args.name or stem)
    row.update(arch=args.arch, checkpoint=osp.abspath(args.checkpoint),
               source=args.source)
    with open(osp.join(work_dir, 'summary.json'), 'w') as f:
        json.dump(row, f, indent=2)
    table = markdown([row])
    with open(osp.join(work_dir, 'summary.md'), 'w') as f:
        f.write(f'# Dense transfer, ViT-{args.arch[0].upper()}/16, '
                f'{args.source} of {args.checkpoint}\n\n{table}')
    print('\n' + table, flush=True)
    return row


if __name__ == '__main__':
    main()
