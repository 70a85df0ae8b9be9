"""Pretrain controlled arms over seeds, probe their frozen features, tabulate.

What ``make demo`` runs, and the same protocol on real data. For every
seed and every arm (a pretraining config, or an existing checkpoint) it

1. pretrains it (``Runner.train``; skipped with ``--checkpoint NAME=PTH``)
   and records the collapse monitor's figures (``CollapseMonitorHook``);
2. for arms with reconstruction decoders, runs the reconstruction
   diagnostic on held-out data (decoder error next to copy-v2 / copy-u /
   mean-image / swapped-feature baselines, and a picture
   ``v1 | u | û_k | u_k | v2``; :mod:`mmequi.evaluation.recon_diagnostic`);
3. trains and tests the probes on the frozen backbone of the last
   checkpoint (the EMA teacher where the model has one, as iBOT evaluates):
   * ``--pair-probe``: 3DIEBench relative rotation + hue changes
     (R²(rot3d), R²(hue)),
   * ``--linear-probe``: classification of one view (top-1),
   * ``--synthetic-probe``: θ of rotation / colour / blur / translation
     applied to a held-out image, the paper's protocol (zero fill),
   * ``--leakfree-probe``: θ of rotation / translation under the leak-free
     ``crop`` protocol (no fill region can give θ away);
4. writes ``WORK_DIR/summary.md`` (mean ± half the seed range per arm; the
   difference of every arm to ``--control``, paired by seed, marked ``*``
   when it exceeds the seed range of both arms with no seed disagreeing;
   per-seed tables; collapse and reconstruction tables),
   ``summary.json`` (everything, with each probe's protocol and feature)
   and ``summary.png``.

Everything runs in this one process (one import of the OpenMMLab stack);
every stage writes its own work dir and log under
``WORK_DIR/<arm>/seed<s>/``. The probes take the backbone config from the
arm's pretraining config, so the two always match.

Defaults = the CPU demo on the embedded toy 3DIEBench (generated into
``data/toy_3diebench`` if absent): iBOT (control: the method's config with
``d_equi = 0``, same views and g_θ), iBOT + ours, and the randomly
initialised backbone (the floor)::

    python tools/benchmarks/equivariance_benchmark.py --work-dir work_dirs/demo
    python tools/benchmarks/equivariance_benchmark.py --seeds 0 1 ...

Real data (after pretraining with tools/dist_train.sh)::

    python tools/benchmarks/equivariance_benchmark.py --work-dir work_dirs/eq \\
        --method "iBOT=configs/ibot/ibot_vit-small-p16_8xb128-amp-coslr-800e_in1k.py" \\
        --checkpoint "iBOT=work_dirs/ibot/epoch_800.pth" \\
        --pair-probe configs/benchmarks/equivariance/probe-3diebench_vit-small-p16_1xb256-300e_3diebench.py \\
        ...
"""
import argparse
import copy
import json
import os
import os.path as osp
import re
import time
from collections import OrderedDict
from typing import Dict, List, Optional

from mmengine.model import is_model_wrapper

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))

EQ = 'configs/benchmarks/equivariance'
TOY = 'vit-tiny-p16_1xb64-6e_toy-3diebench-64px_all-rot.py'
DEFAULT_METHODS = [
    ('iBOT (control)', f'configs/equi_recon/ibot-equi-ctrl_{TOY}'),
    ('iBOT + ours', f'configs/equi_recon/ibot-equi_{TOY}'),
    ('random init', f'configs/equi_recon/ibot-equi_{TOY}'),
]
DEFAULT_CHECKPOINTS = {'random init': 'random'}
DEFAULT_PROBES = {
    'pair': f'{EQ}/probe-3diebench_vit-tiny-p16_1xb128-30e_toy-3diebench-64px.py',
    'linear': f'{EQ}/linear-3diebench_vit-tiny-p16_1xb128-30e_toy-3diebench-64px.py',
    'synthetic': f'{EQ}/probe-synthetic_vit-tiny-p16_1xb128-30e_toy-3diebench-64px.py',
    'leakfree': f'{EQ}/probe-synthetic-crop_vit-tiny-p16_1xb128-30e_toy-3diebench-64px.py',
}
DEFAULT_TOY_ROOT = 'data/toy_3diebench'
#: ``--checkpoint NAME=random``: probe the randomly initialised backbone
RANDOM = 'random'

#: (column title, metric key of r2_sie / accuracy, key of r2_mean, digits)
COLUMNS = [
    ('top-1', 'accuracy/top1', None, 1),
    ('R²(rot3d)', 'r2/rot_quat_sie', 'r2/rot_quat_mean', 3),
    ('R²(hue)', 'r2/color_diff_sie', 'r2/color_diff_mean', 3),
    ('R²(rot) zero fill', 'r2_zero_fill/rot_sie', 'r2_zero_fill/rot_mean', 3),
    ('R²(rot) crop', 'r2_crop/rot_sie', 'r2_crop/rot_mean', 3),
    ('R²(trans) zero fill', 'r2_zero_fill/trans_sie',
     'r2_zero_fill/trans_mean', 3),
    ('R²(trans) crop', 'r2_crop/trans_sie', 'r2_crop/trans_mean', 3),
    ('R²(color)', 'r2_zero_fill/color_sie', 'r2_zero_fill/color_mean', 3),
    ('R²(blur)', 'r2_zero_fill/blur_sie', 'r2_zero_fill/blur_mean', 3),
]
COLLAPSE_KEYS = ('teacher_cls', 'teacher_patch')


def parse_args(argv=None) -> argparse.Namespace:
    from mmengine.config import DictAction
    p = argparse.ArgumentParser(
        description=__doc__.split('\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__[__doc__.index('Defaults'):])
    p.add_argument('--work-dir', default='work_dirs/equivariance_benchmark')
    p.add_argument('--method', action='append', metavar='NAME=CONFIG',
                   help='an arm: a pretraining config (repeat; default: '
                   'iBOT (control), iBOT + ours and random init on the toy '
                   'set)')
    p.add_argument('--checkpoint', action='append', default=None,
                   metavar='NAME=PTH',
                   help='use this checkpoint for arm NAME instead of '
                   f'pretraining it ("{RANDOM}": the backbone as initialised '
                   'by the config, seeded by the seed: the floor)')
    p.add_argument('--control', help='the arm every other arm is compared '
                   'to, paired by seed (default: the first arm)')
    for kind in DEFAULT_PROBES:
        p.add_argument(f'--{kind}-probe', default=DEFAULT_PROBES[kind],
                       help=f'{kind} probe config ("none" to skip)')
    p.add_argument('--data-root', help='override every data_root of the '
                   'pretraining and probe configs')
    p.add_argument('--no-toy-data', action='store_true',
                   help='do not generate the toy set into a missing data '
                   'root (done by default for the toy configs)')
    p.add_argument('--seeds', type=int, nargs='+',
                   help='pretraining and probe seeds (default: 0); every '
                   'arm runs once per seed')
    p.add_argument('--seed', type=int, help='a single seed (= --seeds S)')
    p.add_argument('--pretrain-epochs', type=int,
                   help='override train_cfg.max_epochs of the pretraining')
    p.add_argument('--probe-epochs', type=int,
                   help='override train_cfg.max_epochs of the probes')
    p.add_argument('--feature', choices=['cls', 'mean_patch',
                                         'cls_mean_patch'],
                   help="the probes' backbone feature (default: the probe "
                   "configs')")
    p.add_argument('--recon-batches', type=int, default=4,
                   help='held-out batches of the reconstruction diagnostic '
                   '(0: skip it)')
    p.add_argument('--pretrain-options', nargs='+', action=DictAction,
                   default={}, metavar='KEY=VALUE',
                   help='config overrides for every pretraining')
    p.add_argument('--probe-options', nargs='+', action=DictAction,
                   default={}, metavar='KEY=VALUE',
                   help='config overrides for every probe')
    p.add_argument('--fp32', action='store_true',
                   help='pretrain in fp32 (bf16 configs: AmpOptimWrapper -> '
                   'OptimWrapper), e.g. on a CPU without native bf16')
    p.add_argument('--merge', nargs='+', metavar='DIR',
                   help='only tabulate: merge the summary.json of earlier '
                   'runs (e.g. one per seed, run in parallel) into WORK_DIR')
    p.add_argument('--threads', type=int,
                   help='torch CPU threads (default: torch\'s choice)')
    args = p.parse_args(argv)
    if args.merge:
        return args
    if args.seed is not None and args.seeds is not None:
        raise SystemExit('give --seed or --seeds, not both')
    args.seeds = args.seeds or [args.seed if args.seed is not None else 0]
    if len(set(args.seeds)) != len(args.seeds):
        raise SystemExit(f'--seeds {args.seeds}: repeated seed')
    if args.method:
        args.methods = _pairs(args.method, '--method')
        args.checkpoints = _pairs(args.checkpoint or [], '--checkpoint')
    else:
        args.methods = OrderedDict(DEFAULT_METHODS)
        args.checkpoints = OrderedDict(DEFAULT_CHECKPOINTS)
        args.checkpoints.update(_pairs(args.checkpoint or [],
                                       '--checkpoint'))
    unknown = set(args.checkpoints) - set(args.methods)
    if unknown:
        raise SystemExit(f'--checkpoint for unknown method(s) '
                         f'{sorted(unknown)}; methods: {list(args.methods)}')
    args.control = args.control or next(iter(args.methods))
    if args.control not in args.methods:
        raise SystemExit(f'--control {args.control!r} is not an arm: '
                         f'{list(args.methods)}')
    args.probes = OrderedDict(
        (k, getattr(args, f'{k}_probe')) for k in DEFAULT_PROBES
        if getattr(args, f'{k}_probe') != 'none')
    for path in list(args.methods.values()) + list(args.probes.values()):
        if not osp.isfile(path):
            raise SystemExit(f'config not found: {path}')
    for name, path in args.checkpoints.items():
        if path != RANDOM and not osp.isfile(path):
            raise SystemExit(f'--checkpoint {name}={path}: no such file')
    if args.recon_batches < 0:
        raise SystemExit('--recon-batches must be >= 0')
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
    """'iBOT + ours' -> 'iBOT_ours' (file and logger names)."""
    return re.sub('_+', '_', ''.join(c if c.isalnum() else '_'
                                     for c in name)).strip('_')


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


def _data_roots(cfg) -> List[str]:
    return [ds['data_root'] for ds in _datasets(cfg) if ds.get('data_root')]


def _runner(cfg, work_dir: str, name: str, seed: int):
    from mmengine.runner import Runner

    from mmequi.utils.cli import DATALOADERS, fix_dataloader

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
    for field in DATALOADERS:
        fix_dataloader(cfg, field)
    return StageRunner.from_cfg(cfg)


def _load(config: str, args, epochs: Optional[int], options: dict):
    """The config with the command line's data root, epochs and options."""
    from mmengine.config import Config
    cfg = Config.fromfile(config)
    if args.data_root:
        for ds in _datasets(cfg):
            ds['data_root'] = args.data_root
    if epochs:
        cfg.train_cfg.max_epochs = epochs
        cfg.default_hooks.checkpoint.interval = epochs
    cfg.merge_from_dict(options)
    return cfg


def pretrain(name: str, config: str, seed: int, args, work_dir: str,
             recon_png: str):
    """Train; returns (checkpoint, collapse summary or None, recon errors or
    None)."""
    cfg = _load(config, args, args.pretrain_epochs, args.pretrain_options)
    if args.fp32:
        from mmequi.utils import full_precision
        cfg.optim_wrapper = full_precision(cfg.optim_wrapper)
    runner = _runner(cfg, work_dir, f'{_slug(name)}_seed{seed}_pretrain',
                     seed)
    runner.train()
    last = osp.join(work_dir, 'last_checkpoint')
    if not osp.isfile(last):
        raise RuntimeError(f'{name}: pretraining wrote no checkpoint '
                           f'({last} missing); check default_hooks.checkpoint')
    with open(last) as f:
        ckpt = f.read().strip()
    collapse = runner.message_hub.get_info('collapse_monitor')
    from mmequi.models.heads import find_equi_recon_head
    recon = None
    model = runner.model
    if is_model_wrapper(model):
        model = model.module
    if args.recon_batches and find_equi_recon_head(model) is not None:
        recon = reconstruction(runner, cfg, seed, args.recon_batches,
                               recon_png)
    return ckpt, collapse, recon


def reconstruction(runner, cfg, seed: int, batches: int,
                   png: str) -> Dict[str, float]:
    """The decoders' diagnostic on held-out data (the pretraining pipeline
    on the dataset's ``split='val'`` where it has one)."""
    import mmcv
    import numpy as np
    from mmequi.evaluation import recon_diagnostic
    loader = copy.deepcopy(cfg.train_dataloader)
    loader.update(num_workers=0, persistent_workers=False, drop_last=False,
                  batch_size=min(int(loader.get('batch_size', 32)), 32),
                  sampler=dict(type='DefaultSampler', shuffle=False))
    inner = loader['dataset']
    while 'split' not in inner and 'dataset' in inner:
        inner = inner['dataset']
    if 'split' in inner:
        inner['split'] = 'val'
    else:
        runner.logger.warning('recon diagnostic: the pretraining dataset has '
                              'no split; it runs on training images')
    np.random.seed(seed)  # crops and masks of the pipeline
    data = runner.build_dataloader(loader, seed=seed)
    errors, grid = recon_diagnostic(runner.model, data, seed=seed,
                                    max_batches=batches)
    if grid is not None:
        mmcv.imwrite(grid[..., ::-1], png)
    runner.logger.info('recon diagnostic (MSE, normalised pixels): ' +
                       ', '.join(f'{k} {v:.4f}' if k != 'samples' else
                                 f'{k} {v}' for k, v in errors.items()))
    return errors


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


def probe_info(config: str, args) -> dict:
    """The protocol and feature a probe config runs with."""
    cfg = _load(config, args, None, args.probe_options)
    if args.feature:
        cfg.model.feature = args.feature
    pre = cfg.model.get('data_preprocessor') or {}
    protocol = pre.get('protocol', 'zero_fill') \
        if pre.get('type') == 'TransformProbeDataPreprocessor' else None
    return dict(config=config, protocol=protocol,
                feature=cfg.model.get('feature', 'cls'),
                epochs=cfg.train_cfg.max_epochs)


def probe(method: str, kind: str, config: str, backbone: dict,
          checkpoint: str, seed: int, args, work_dir: str
          ) -> Dict[str, float]:
    from mmequi.utils.checkpoint_io import backbone_prefix, read_checkpoint
    cfg = _load(config, args, args.probe_epochs, args.probe_options)
    if args.feature:
        cfg.model.feature = args.feature
    if cfg.model.backbone.get('type') != backbone.get('type'):
        cfg.model.feature = 'auto'  # e.g. an SIE ResNet into a ViT probe
    cfg.model.backbone = backbone
    if 'img_size' in backbone:
        cfg.model.dummy_size = backbone['img_size']
    cfg.model.backbone_checkpoint = checkpoint
    # the EMA teacher where the model has one (iBOT), else the student
    cfg.model.prefix = backbone_prefix(read_checkpoint(checkpoint),
                                       file=checkpoint)
    # train, then test once on the held-out split (no separate validation)
    cfg.train_cfg.val_interval = cfg.train_cfg.max_epochs + 1
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    runner = _runner(cfg, work_dir, f'{_slug(method)}_seed{seed}_{kind}',
                     seed)
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


def run(args) -> dict:
    """Every seed x arm: pretraining, diagnostic, probes."""
    to_train = [m for m in args.methods if m not in args.checkpoints]
    n_seeds = len(args.seeds)
    progress = Progress(n_seeds * (len(to_train) +
                                   len(args.methods) * len(args.probes)))
    ensure_toy_data(args, [args.methods[m] for m in to_train] +
                    list(args.probes.values()))
    out = dict(metrics=OrderedDict(), collapse=OrderedDict(),
               recon=OrderedDict(), checkpoints=OrderedDict(),
               seconds=OrderedDict())
    for seed in args.seeds:
        for key in ('metrics', 'collapse', 'recon', 'checkpoints'):
            out[key][seed] = OrderedDict()
        for method, config in args.methods.items():
            mdir = osp.join(args.work_dir, _slug(method), f'seed{seed}')
            ckpt = args.checkpoints.get(method)
            if ckpt == RANDOM:
                ckpt = random_backbone(config, seed,
                                       osp.join(mdir, 'random_init.pth'))
            elif ckpt is None:
                progress.stage(f'seed {seed}, {method}: pretraining {config}')
                t = time.time()
                png = osp.join(args.work_dir,
                               f'recon_{_slug(method)}_seed{seed}.png')
                ckpt, collapse, recon = pretrain(
                    method, config, seed, args, osp.join(mdir, 'pretrain'),
                    png)
                out['seconds'][f'{method} / seed {seed} / pretrain'] = \
                    time.time() - t
                if collapse:
                    out['collapse'][seed][method] = collapse
                if recon:
                    out['recon'][seed][method] = dict(recon, picture=png)
            out['checkpoints'][seed][method] = ckpt
            backbone = probe_backbone(config)
            metrics = out['metrics'][seed][method] = OrderedDict()
            for kind, pconfig in args.probes.items():
                progress.stage(f'seed {seed}, {method}: {kind} probe '
                               f'{pconfig}')
                t = time.time()
                metrics.update(probe(method, kind, pconfig, backbone, ckpt,
                                     seed, args, osp.join(mdir, kind)))
                out['seconds'][f'{method} / seed {seed} / {kind} probe'] = \
                    time.time() - t
    out['total'] = progress.elapsed()
    return out


def _collapse_rows(collapse) -> List[List[str]]:
    rows = [['method', 'seed'] + [f'{k} {f}' for k in COLLAPSE_KEYS
                                  for f in ('entropy', 'protos')] +
            ['collapsed']]
    for seed, arms in collapse.items():
        for arm, s in arms.items():
            cells, flag = [], []
            for k in COLLAPSE_KEYS:
                v = s.get(k, {})
                cells += [f'{v.get("entropy", float("nan")):.3f}',
                          f'{v.get("protos", float("nan")):.1f}']
                if v.get('collapsed'):
                    flag.append(f'{k}: {v["state"]}')
            rows.append([arm, str(seed)] + cells + [', '.join(flag) or
                                                   'no'])
    return rows


def _recon_rows(recon) -> List[List[str]]:
    from mmequi.evaluation import BASELINES
    rows = [['method', 'seed'] + list(BASELINES)]
    for seed, arms in recon.items():
        for arm, e in arms.items():
            rows.append([arm, str(seed)] + [f'{e[b]:.4f}' for b in BASELINES])
    return rows


def summarise(args, out: dict) -> dict:
    """summary.md / .json / .png; returns the aggregate."""
    from mmequi.evaluation.seed_summary import (aggregate, markdown,
                                                paired_deltas, plain, table)
    per_seed = out['metrics']
    agg = aggregate(per_seed)
    deltas = paired_deltas(per_seed, args.control) \
        if args.control in agg else {}  # e.g. no probe ran
    arms, n = list(args.methods), len(args.seeds)
    cols = [(c[0], c[1], c[3]) for c in COLUMNS
            if any(c[1] in m for a in per_seed.values() for m in a.values())]
    mean_cols = [(c[0], c[2], 3) for c in COLUMNS if c[2] and
                 any(c[2] in m for a in per_seed.values()
                     for m in a.values())]
    info = out.get('probe_info') or {k: probe_info(v, args)
                                     for k, v in args.probes.items()}
    main = table(cols, arms, agg, n)
    delta = table(cols, [a for a in arms if a != args.control], deltas, n,
                  delta=True, first=f'− {args.control}')
    seeds = ', '.join(map(str, args.seeds))
    text = [
        '# Equivariance benchmark', '',
        f'seeds {seeds}; total time {out["total"]}; arms: ' +
        ', '.join(f'{m} = `{c}`' + (f' (checkpoint `{args.checkpoints[m]}`)'
                                    if m in args.checkpoints else '')
                  for m, c in args.methods.items()), '',
        'Probes on frozen features (held-out objects / images); top-1 in %, '
        'R² as SIE (one scalar mean over all target entries, `r2_sie`). '
        'Synthetic R² columns name their protocol: **zero fill** = the '
        "paper's (the fill region of a rotated/shifted image gives θ away), "
        '**crop** = leak-free (every view is a window no fill reaches). '
        'Probe features: ' + '; '.join(
            f'{k}: {v["feature"]}' + (f', protocol {v["protocol"]}'
                                      if v['protocol'] else '')
            for k, v in info.items()) + '.', '',
        (f'Mean ± half the range over {n} seeds:' if n > 1 else
         f'Seed {seeds}:'), '', markdown(main), '',
        f'Difference to the control arm ({args.control}), paired by seed '
        '(`*`: larger than the seed range of both arms, same sign on every '
        'seed' + ('' if n > 1 else '; needs 2 or more seeds') + '):', '',
        markdown(delta), '']
    if n > 1:
        for seed in args.seeds:
            text += [f'Seed {seed}:', '',
                     markdown(table(cols, arms, aggregate(
                         {seed: per_seed[seed]}), 1)), '']
    text += ['The same R² averaged over target dimensions (sklearn default, '
             '`r2_mean`):', '', markdown(table(mean_cols, arms, agg, n)), '']
    if any(out['collapse'].values()):
        text += ['Collapse monitor at the end of pretraining (teacher output '
                 'entropy / ln K: 1 = uniform; prototypes in use: 1 = one '
                 'prototype; mean of the last iterations):', '',
                 markdown(_collapse_rows(out['collapse'])), '']
    if any(out['recon'].values()):
        text += ['Reconstruction diagnostic on held-out data (MSE in '
                 'normalised pixels, mean over the K targets; `swap_z1` / '
                 '`swap_z2`: the features of v1 / v2 taken from another '
                 'image; pictures `recon_<arm>_seed<s>.png`: v1 | u | '
                 'û_1 | u_1 | û_2 | u_2 | v2):', '',
                 markdown(_recon_rows(out['recon'])), '']
    text += ['Probe configs: ' + ', '.join(f'{k} = `{v}`'
                                           for k, v in args.probes.items()),
             '', 'Time per stage: ' + ', '.join(
                 f'{k} {v:.0f} s' for k, v in out['seconds'].items()), '']
    with open(osp.join(args.work_dir, 'summary.md'), 'w') as f:
        f.write('\n'.join(text))
    summary = dict(seeds=args.seeds, methods=args.methods,
                   given_checkpoints=args.checkpoints,
                   checkpoints=out['checkpoints'], control=args.control,
                   probes=info, metrics=per_seed, aggregate=agg,
                   deltas=deltas, collapse=out['collapse'],
                   recon=out['recon'], seconds=out['seconds'],
                   total=out['total'])
    with open(osp.join(args.work_dir, 'summary.json'), 'w') as f:
        json.dump(summary, f, indent=2)
    bar_chart(agg, arms, cols, osp.join(args.work_dir, 'summary.png'))
    print('\n' + plain(main) + '\n\n' + plain(delta))
    if any(out['collapse'].values()):
        print('\n' + plain(_collapse_rows(out['collapse'])))
    if any(out['recon'].values()):
        print('\n' + plain(_recon_rows(out['recon'])))
    return summary


def bar_chart(agg, arms, cols, path: str) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    import numpy as np
    x = np.arange(len(cols))
    arms = [a for a in arms if a in agg]
    width = 0.8 / max(1, len(arms))
    fig, ax = plt.subplots(figsize=(1.2 * len(cols) + 2, 3.8))
    for i, arm in enumerate(arms):
        scale = [100.0 if title == 'top-1' else 1.0 for title, _, _ in cols]
        stats = [agg[arm].get(key) for _, key, _ in cols]
        vals = [s['mean'] / k if s else np.nan for s, k in zip(stats, scale)]
        err = [s['spread'] / 2 / k if s else 0 for s, k in zip(stats, scale)]
        ax.bar(x + (i - (len(arms) - 1) / 2) * width, vals, width, yerr=err,
               capsize=2, label=arm)
    ax.set_xticks(x, [t + (' (/100)' if t == 'top-1' else '')
                      for t, _, _ in cols], rotation=25, ha='right')
    ax.set_ylabel('top-1 / 100, R² (SIE)')
    ax.axhline(0, color='k', lw=0.5)
    ax.set_ylim(min(-0.1, ax.get_ylim()[0]), 1.0)
    ax.legend(frameon=False, fontsize=8)
    ax.set_title('frozen-feature probes (bars: mean; whiskers: half range '
                 'over seeds)', fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def merge(args) -> dict:
    """Combine the summary.json of runs with the same arms and probes and
    disjoint seeds (e.g. one process per seed on one GPU)."""
    parts = []
    for d in args.merge:
        path = osp.join(d, 'summary.json')
        if not osp.isfile(path):
            raise SystemExit(f'--merge {d}: no summary.json (did the run '
                             'finish?)')
        with open(path) as f:
            parts.append(json.load(f))
    first = parts[0]
    for d, part in zip(args.merge[1:], parts[1:]):
        for key in ('methods', 'control', 'probes'):
            if part[key] != first[key]:
                raise SystemExit(f'--merge: {d} has other {key} than '
                                 f'{args.merge[0]}: {part[key]} vs '
                                 f'{first[key]}')
    seeds = [int(s) for part in parts for s in part['seeds']]
    if len(set(seeds)) != len(seeds):
        raise SystemExit(f'--merge: repeated seeds {seeds}')
    args.methods = OrderedDict(first['methods'])
    args.control = first['control']
    args.seeds = seeds
    args.probes = OrderedDict((k, v['config'])
                              for k, v in first['probes'].items())
    args.checkpoints = first.get('given_checkpoints', {})
    out = dict(probe_info=first['probes'], metrics=OrderedDict(),
               collapse=OrderedDict(), recon=OrderedDict(),
               checkpoints=OrderedDict(), seconds=OrderedDict(),
               total=' + '.join(p['total'] for p in parts))
    for part in parts:
        for key in ('metrics', 'collapse', 'recon', 'checkpoints'):
            for seed, value in part[key].items():
                out[key][int(seed)] = value
        out['seconds'].update(part['seconds'])
    return out


def main(argv=None) -> dict:
    args = parse_args(argv)
    import torch
    if args.threads:
        torch.set_num_threads(args.threads)
    import mmequi  # noqa: F401  (compat layer and registration)
    os.makedirs(args.work_dir, exist_ok=True)
    out = merge(args) if args.merge else run(args)
    summary = summarise(args, out)
    print(f'\n(R² = r2_sie; top-1 in %.) Saved {args.work_dir}/summary.md, '
          f'summary.json, summary.png; total {out["total"]}', flush=True)
    return summary


if __name__ == '__main__':
    main()
