"""Pretrain methods side by side, probe their frozen features, tabulate.

What ``make demo`` runs, and the same protocol on real data. For every
method (a pretraining config, or an existing checkpoint) it

1. pretrains it (``Runner.train``; skipped with ``--checkpoint NAME=PTH``),
2. trains and tests the probes on the frozen backbone of the last
   checkpoint (the EMA teacher where the model has one, as iBOT evaluates):
   * ``--pair-probe``: 3DIEBench relative rotation + hue changes
     (R²(rot3d), R²(hue)),
   * ``--linear-probe``: classification of one view (top-1),
   * ``--synthetic-probe``: θ of rotation / colour / blur / translation
     applied to a held-out image (R²(rot), R²(color), R²(blur), R²(trans)),
3. writes ``WORK_DIR/summary.md`` (the table; R² = SIE's definition,
   ``r2_sie``, plus a table of the per-dimension ``r2_mean``),
   ``summary.json`` (every metric) and ``summary.png`` (a bar chart).

Everything runs in this one process (one import of the OpenMMLab stack);
every stage writes its own work dir and log under ``WORK_DIR/<method>/``.
The probes take the backbone config from the method's pretraining config,
so the two always match.

Defaults = the CPU demo on the embedded toy 3DIEBench (generated into
``data/toy_3diebench`` if absent)::

    python tools/benchmarks/equivariance_benchmark.py --work-dir work_dirs/demo

Real data (after pretraining with tools/dist_train.sh)::

    python tools/benchmarks/equivariance_benchmark.py --work-dir work_dirs/eq \\
        --checkpoint "iBOT=work_dirs/ibot/epoch_800.pth" \\
        --method "iBOT=configs/ibot/ibot_vit-small-p16_8xb128-amp-coslr-800e_in1k.py" \\
        --pair-probe configs/benchmarks/equivariance/probe-3diebench_vit-small-p16_1xb256-300e_3diebench.py \\
        ...
"""
import argparse
import copy
import json
import os
import os.path as osp
import sys
import time
from collections import OrderedDict
from typing import Dict, List, Optional, Tuple

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
sys.path.insert(0, REPO)

EQ = 'configs/benchmarks/equivariance'
DEFAULT_METHODS = [
    ('iBOT', 'configs/ibot/ibot_vit-tiny-p16_1xb64-5e_toy-3diebench-64px.py'),
    ('iBOT + ours', 'configs/equi_recon/'
     'ibot-equi_vit-tiny-p16_1xb64-5e_toy-3diebench-64px_all-rot.py'),
]
DEFAULT_PROBES = {
    'pair': f'{EQ}/probe-3diebench_vit-tiny-p16_1xb128-30e_toy-3diebench-64px.py',
    'linear': f'{EQ}/linear-3diebench_vit-tiny-p16_1xb128-30e_toy-3diebench-64px.py',
    'synthetic': f'{EQ}/probe-synthetic_vit-tiny-p16_1xb128-30e_toy-3diebench-64px.py',
}
DEFAULT_TOY_ROOT = 'data/toy_3diebench'
#: ``--checkpoint NAME=random``: probe the randomly initialised backbone
RANDOM = 'random'

#: (column, probe kind, metric key of r2_sie / accuracy, key of r2_mean)
COLUMNS: List[Tuple[str, str, str, Optional[str]]] = [
    ('top-1', 'linear', 'accuracy/top1', None),
    ('R²(rot3d)', 'pair', 'r2/rot_quat_sie', 'r2/rot_quat_mean'),
    ('R²(hue)', 'pair', 'r2/color_diff_sie', 'r2/color_diff_mean'),
    ('R²(rot)', 'synthetic', 'r2/rot_sie', 'r2/rot_mean'),
    ('R²(color)', 'synthetic', 'r2/color_sie', 'r2/color_mean'),
    ('R²(blur)', 'synthetic', 'r2/blur_sie', 'r2/blur_mean'),
    ('R²(trans)', 'synthetic', 'r2/trans_sie', 'r2/trans_mean'),
]


def parse_args(argv=None) -> argparse.Namespace:
    from mmengine.config import DictAction
    p = argparse.ArgumentParser(
        description=__doc__.split('\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__[__doc__.index('Defaults'):])
    p.add_argument('--work-dir', default='work_dirs/equivariance_benchmark')
    p.add_argument('--method', action='append', metavar='NAME=CONFIG',
                   help='a pretraining config (repeat; default: plain iBOT '
                   'and iBOT + ours on the toy set)')
    p.add_argument('--checkpoint', action='append', default=[],
                   metavar='NAME=PTH',
                   help='use this checkpoint for method NAME instead of '
                   f'pretraining it ("{RANDOM}": the backbone as initialised '
                   'by the config, seeded by --seed: a reference row)')
    for kind in DEFAULT_PROBES:
        p.add_argument(f'--{kind}-probe', default=DEFAULT_PROBES[kind],
                       help=f'{kind} probe config ("none" to skip)')
    p.add_argument('--data-root', help='override every data_root of the '
                   'pretraining and probe configs')
    p.add_argument('--no-toy-data', action='store_true',
                   help='do not generate the toy set into a missing data '
                   'root (done by default for the toy configs)')
    p.add_argument('--seed', type=int, default=0,
                   help='randomness.seed of every stage')
    p.add_argument('--pretrain-epochs', type=int,
                   help='override train_cfg.max_epochs of the pretraining')
    p.add_argument('--probe-epochs', type=int,
                   help='override train_cfg.max_epochs of the probes')
    p.add_argument('--pretrain-options', nargs='+', action=DictAction,
                   default={}, metavar='KEY=VALUE',
                   help='config overrides for every pretraining')
    p.add_argument('--probe-options', nargs='+', action=DictAction,
                   default={}, metavar='KEY=VALUE',
                   help='config overrides for every probe')
    p.add_argument('--threads', type=int,
                   help='torch CPU threads (default: torch\'s choice)')
    args = p.parse_args(argv)
    args.methods = _pairs(args.method, '--method') if args.method else \
        OrderedDict(DEFAULT_METHODS)
    args.checkpoints = _pairs(args.checkpoint, '--checkpoint')
    unknown = set(args.checkpoints) - set(args.methods)
    if unknown:
        raise SystemExit(f'--checkpoint for unknown method(s) '
                         f'{sorted(unknown)}; methods: {list(args.methods)}')
    args.probes = OrderedDict(
        (k, getattr(args, f'{k}_probe')) for k in DEFAULT_PROBES
        if getattr(args, f'{k}_probe') != 'none')
    for path in list(args.methods.values()) + list(args.probes.values()):
        if not osp.isfile(path):
            raise SystemExit(f'config not found: {path}')
    for name, path in args.checkpoints.items():
        if path != RANDOM and not osp.isfile(path):
            raise SystemExit(f'--checkpoint {name}={path}: no such file')
    return args


def _pairs(items: List[str], flag: str) -> 'OrderedDict[str, str]':
    out = OrderedDict()
    for item in items:
        if '=' not in item:
            raise SystemExit(f'{flag} {item!r}: expected NAME=PATH')
        name, path = item.split('=', 1)
        if not name or name in out:
            raise SystemExit(f'{flag} {item!r}: empty or repeated name')
        out[name] = path
    return out


class Progress:
    """Stage headers with elapsed time (the runners log the iterations)."""

    def __init__(self, total: int) -> None:
        self.total, self.done, self.start = total, 0, time.time()

    def stage(self, text: str) -> None:
        self.done += 1
        print(f'\n=== [{self.done}/{self.total}] {text}  '
              f'(elapsed {self.elapsed()})', flush=True)

    def elapsed(self) -> str:
        s = int(time.time() - self.start)
        return f'{s // 60}m{s % 60:02d}s'


def _slug(name: str) -> str:
    return ''.join(c if c.isalnum() else '_' for c in name).strip('_')


def _datasets(cfg) -> List[dict]:
    """The innermost dataset configs of the train/val/test loaders
    (through wrappers such as CachedDataset)."""
    out = []
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        ds = cfg.get(key) and cfg[key].get('dataset')
        while ds is not None and 'data_root' not in ds and 'dataset' in ds:
            ds = ds['dataset']
        if ds is not None:
            out.append(ds)
    return out


def _set_data_root(cfg, root: str) -> None:
    for ds in _datasets(cfg):
        ds['data_root'] = root


def _data_roots(cfg) -> List[str]:
    return [ds['data_root'] for ds in _datasets(cfg) if ds.get('data_root')]


def _runner(cfg, work_dir: str, name: str, seed: int):
    from mmengine.runner import Runner

    class StageRunner(Runner):
        """Logs the system environment and the config only in the first
        stage (every stage dumps its config file into its work dir)."""
        logged = False

        def _log_env(self, env_cfg: dict) -> None:
            if StageRunner.logged:
                self.logger.info(f'config: {self.work_dir}/'
                                 f'{osp.basename(self.cfg.filename)}')
                return
            super()._log_env(env_cfg)
            StageRunner.logged = True

    cfg.work_dir = work_dir
    cfg.experiment_name = name  # unique logger / visualizer per stage
    cfg.randomness = dict(seed=seed, deterministic=False)
    cfg.launcher = 'none'
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader = cfg.get(key)
        if loader and loader.get('num_workers', 0) == 0:
            loader['persistent_workers'] = False
    return StageRunner.from_cfg(cfg)


def _load(config: str, args, epochs: Optional[int], options: dict):
    """The config with the command line's data root, epochs and options."""
    from mmengine.config import Config
    cfg = Config.fromfile(config)
    if args.data_root:
        _set_data_root(cfg, args.data_root)
    if epochs:
        cfg.train_cfg.max_epochs = epochs
        cfg.default_hooks.checkpoint.interval = epochs
    cfg.merge_from_dict(options)
    return cfg


def pretrain(name: str, config: str, args, work_dir: str) -> str:
    cfg = _load(config, args, args.pretrain_epochs, args.pretrain_options)
    runner = _runner(cfg, work_dir, f'{_slug(name)}_pretrain', args.seed)
    runner.train()
    last = osp.join(work_dir, 'last_checkpoint')
    if not osp.isfile(last):
        raise RuntimeError(f'{name}: pretraining wrote no checkpoint '
                           f'({last} missing); check default_hooks.checkpoint')
    with open(last) as f:
        return f.read().strip()


def random_backbone(config: str, seed: int, path: str) -> str:
    """Save the config's backbone as initialised (seeded) to ``path``."""
    import torch
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmengine.runner import set_random_seed
    from mmpretrain.registry import MODELS
    init_default_scope('mmpretrain')
    set_random_seed(seed)
    backbone = MODELS.build(Config.fromfile(config).model.backbone)
    backbone.init_weights()
    os.makedirs(osp.dirname(path), exist_ok=True)
    torch.save({'state_dict': {f'backbone.{k}': v for k, v in
                               backbone.state_dict().items()},
                'meta': dict(random_init=True, seed=seed, config=config)},
               path)
    return path


def _checkpoint_prefix(path: str) -> str:
    """'teacher.backbone.' if the checkpoint has an EMA teacher (iBOT),
    else 'backbone.'."""
    from mmengine.runner.checkpoint import _load_checkpoint
    state = _load_checkpoint(path, map_location='cpu')
    state = state.get('state_dict', state)
    if any(k.startswith('teacher.backbone.') for k in state):
        return 'teacher.backbone.'
    if any(k.startswith('backbone.') for k in state):
        return 'backbone.'
    raise KeyError(f'{path}: no backbone.* or teacher.backbone.* weights')


def probe(method: str, kind: str, config: str, backbone: dict,
          checkpoint: str, args, work_dir: str) -> Dict[str, float]:
    cfg = _load(config, args, args.probe_epochs, args.probe_options)
    if cfg.model.backbone.get('type') != backbone.get('type'):
        cfg.model.feature = 'auto'  # e.g. an SIE ResNet into a ViT probe
    cfg.model.backbone = backbone
    if 'img_size' in backbone:
        cfg.model.dummy_size = backbone['img_size']
    cfg.model.backbone_checkpoint = checkpoint
    cfg.model.prefix = _checkpoint_prefix(checkpoint)
    # train, then test once on the held-out split (no separate validation)
    cfg.train_cfg.val_interval = cfg.train_cfg.max_epochs + 1
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    runner = _runner(cfg, work_dir, f'{_slug(method)}_{kind}', args.seed)
    runner.train()
    metrics = runner.test()
    cache = getattr(runner.model, 'cache', None)
    if cache is not None and cache.stats():
        runner.logger.info(f'{method} / {kind} probe: {cache.stats()}')
    return {k: float(v) for k, v in metrics.items()}


def probe_backbone(config: str) -> dict:
    """The pretraining config's backbone, as the probes build it."""
    from mmengine.config import Config
    backbone = copy.deepcopy(Config.fromfile(config).model.backbone)
    backbone = backbone.to_dict() if hasattr(backbone, 'to_dict') else \
        dict(backbone)
    if 'drop_path_rate' in backbone:
        backbone['drop_path_rate'] = 0.0
    backbone.pop('init_cfg', None)
    return backbone


def make_table(results: Dict[str, Dict[str, float]], mean: bool = False
               ) -> List[List[str]]:
    head = ['method'] + [c[0] for c in COLUMNS]
    rows = [head]
    for method, metrics in results.items():
        row = [method]
        for col, _, key, mean_key in COLUMNS:
            k = mean_key if (mean and mean_key) else key
            v = metrics.get(k)
            if v is None:
                row.append('—')
            elif col == 'top-1':
                row.append(f'{v:.1f}')
            else:
                row.append(f'{v:.3f}')
        rows.append(row)
    return rows


def markdown(rows: List[List[str]]) -> str:
    lines = ['| ' + ' | '.join(rows[0]) + ' |',
             '| ' + ' | '.join('---' for _ in rows[0]) + ' |']
    lines += ['| ' + ' | '.join(r) + ' |' for r in rows[1:]]
    return '\n'.join(lines)


def plain(rows: List[List[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return '\n'.join('  '.join(c.ljust(w) for c, w in zip(r, widths))
                     for r in rows)


def bar_chart(results: Dict[str, Dict[str, float]], path: str) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    import numpy as np
    cols = [c for c in COLUMNS
            if any(c[2] in m for m in results.values())]
    x = np.arange(len(cols))
    width = 0.8 / max(1, len(results))
    fig, ax = plt.subplots(figsize=(1.3 * len(cols) + 2, 3.6))
    for i, (method, metrics) in enumerate(results.items()):
        vals = [metrics.get(key, np.nan) / (100.0 if col == 'top-1' else 1)
                for col, _, key, _ in cols]
        ax.bar(x + (i - (len(results) - 1) / 2) * width, vals, width,
               label=method)
    ax.set_xticks(x, [c[0] + (' (/100)' if c[0] == 'top-1' else '')
                      for c in cols])
    ax.set_ylabel('top-1 / 100, R² (SIE)')
    ax.axhline(0, color='k', lw=0.5)
    ax.set_ylim(min(-0.1, ax.get_ylim()[0]), 1.0)
    ax.legend(frameon=False)
    ax.set_title('frozen-feature probes')
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def ensure_toy_data(args, configs: List[str]) -> None:
    """Generate the toy 3DIEBench into a missing data root when the configs
    are the toy ones (they read data/toy_3diebench by default); any other
    missing root is an error."""
    from mmengine.config import Config
    default_roots = {r for c in configs for r in _data_roots(Config.fromfile(c))}
    roots = {args.data_root} if args.data_root else default_roots
    toy = default_roots == {DEFAULT_TOY_ROOT}
    for root in sorted(roots):
        if osp.isdir(root):
            continue
        if not toy or args.no_toy_data:
            raise SystemExit(f'data_root {root} does not exist')
        from mmequi.datasets.toy_3d import make_toy_3diebench
        print(f'generating the toy 3DIEBench into {root} ...', flush=True)
        info = make_toy_3diebench(root, workers=2, progress=True)
        print(f'toy 3DIEBench: {info}', flush=True)


def main(argv=None) -> Dict[str, Dict[str, float]]:
    args = parse_args(argv)
    import torch
    if args.threads:
        torch.set_num_threads(args.threads)
    import mmequi  # noqa: F401  (compat layer and registration)
    os.makedirs(args.work_dir, exist_ok=True)
    to_train = [m for m in args.methods if m not in args.checkpoints]
    stages = len(to_train) + len(args.methods) * len(args.probes)
    progress = Progress(stages)
    ensure_toy_data(args, [args.methods[m] for m in to_train] +
                    list(args.probes.values()))

    results: Dict[str, Dict[str, float]] = OrderedDict()
    timing: Dict[str, float] = OrderedDict()
    for method, config in args.methods.items():
        mdir = osp.join(args.work_dir, _slug(method))
        ckpt = args.checkpoints.get(method)
        if ckpt == RANDOM:
            ckpt = random_backbone(config, args.seed,
                                   osp.join(mdir, 'random_init.pth'))
        elif ckpt is None:
            progress.stage(f'{method}: pretraining {config}')
            t = time.time()
            ckpt = pretrain(method, config, args,
                            osp.join(mdir, 'pretrain'))
            timing[f'{method} / pretrain'] = time.time() - t
        backbone = probe_backbone(config)
        results[method] = {}
        for kind, pconfig in args.probes.items():
            progress.stage(f'{method}: {kind} probe {pconfig}')
            t = time.time()
            results[method].update(probe(method, kind, pconfig, backbone,
                                         ckpt, args, osp.join(mdir, kind)))
            timing[f'{method} / {kind} probe'] = time.time() - t

    rows, rows_mean = make_table(results), make_table(results, mean=True)
    total = progress.elapsed()
    text = [
        '# Equivariance benchmark', '',
        f'seed {args.seed}; total time {total}; methods: ' +
        ', '.join(f'{m} = `{c}`' for m, c in args.methods.items()), '',
        'Probes on frozen features (held-out objects / images). top-1 in %, '
        'R² as SIE (one scalar mean over all target entries, `r2_sie`):', '',
        markdown(rows), '',
        'The same R² averaged over target dimensions (sklearn default, '
        '`r2_mean`):', '', markdown(rows_mean), '',
        'Probe configs: ' + ', '.join(f'{k} = `{v}`'
                                      for k, v in args.probes.items()), '',
        'Time per stage: ' + ', '.join(f'{k} {v:.0f} s'
                                       for k, v in timing.items()), '']
    with open(osp.join(args.work_dir, 'summary.md'), 'w') as f:
        f.write('\n'.join(text))
    with open(osp.join(args.work_dir, 'summary.json'), 'w') as f:
        json.dump(dict(seed=args.seed, methods=args.methods,
                       probes=args.probes, metrics=results,
                       seconds=timing), f, indent=2)
    bar_chart(results, osp.join(args.work_dir, 'summary.png'))
    print('\n' + plain(rows))
    print(f'\n(R² = r2_sie; top-1 in %.) Saved {args.work_dir}/summary.md, '
          f'summary.json, summary.png; total {total}', flush=True)
    return results


if __name__ == '__main__':
    main()
