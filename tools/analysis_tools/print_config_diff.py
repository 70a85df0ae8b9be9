"""Dump every config's resolved dict, or compare two dumps key by key.

For refactoring configs (moving settings into ``_base_`` files) without
changing what runs: dump the tree before and after, then diff.

    PYTHONPATH=$PWD python tools/analysis_tools/print_config_diff.py \
        dump configs work_dirs/cfg_before
    ... edit configs ...
    PYTHONPATH=$PWD python tools/analysis_tools/print_config_diff.py \
        dump configs work_dirs/cfg_after
    python tools/analysis_tools/print_config_diff.py \
        diff work_dirs/cfg_before work_dirs/cfg_after

``dump`` writes one sorted JSON file per config (``mmengine.Config.fromfile``
then ``to_dict()``; files under a ``_base_`` folder are skipped). ``diff``
prints, per config, every added / removed / changed key path, split into
keys the Runner reads (``model``, loaders, optimiser, schedule, hooks,
runtime) and other top-level variables (helpers such as ``max_epochs`` that
only feed the values above), and exits 1 if any Runner key differs.
"""
import argparse
import json
import os.path as osp
import sys
from pathlib import Path
from typing import Any, List

# top-level keys that mmengine's Runner (or a toolbox's runner) reads
RUNNER_KEYS = frozenset({
    'model', 'data_preprocessor', 'train_dataloader', 'val_dataloader',
    'test_dataloader', 'train_cfg', 'val_cfg', 'test_cfg', 'val_evaluator',
    'test_evaluator', 'optim_wrapper', 'param_scheduler', 'custom_hooks',
    'default_hooks', 'visualizer', 'env_cfg', 'randomness', 'default_scope',
    'custom_imports', 'auto_scale_lr', 'log_level', 'log_processor',
    'load_from', 'resume', 'find_unused_parameters', 'sync_bn', 'launcher',
    'work_dir'
})


def dump(root: str, out_dir: str) -> int:
    """Write ``<out_dir>/<path below root, / -> __>.json`` for every
    ``*.py`` under ``root`` outside ``_base_`` folders; returns the number
    written. A config that fails to load is written as ``ERROR <exception>``.
    """
    from mmengine.config import Config
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = sorted(p for p in Path(root).rglob('*.py')
                   if '_base_' not in p.parts)
    for path in paths:
        try:
            text = json.dumps(Config.fromfile(str(path)).to_dict(),
                              sort_keys=True, indent=1, default=repr)
        except Exception as e:  # reported in the dump, compared by diff
            text = f'ERROR {e!r}'
        name = str(path.relative_to(root)).replace('/', '__')
        (out / (name + '.json')).write_text(text + '\n')
    return len(paths)


def key_diffs(old: Any, new: Any, path: str = '') -> List[str]:
    """Every difference between two JSON values as ``<key path>: ...``
    lines (dicts by key, lists of equal length by index, else by value)."""
    if isinstance(old, dict) and isinstance(new, dict):
        lines = []
        for k in sorted(set(old) | set(new)):
            sub = f'{path}.{k}'
            if k not in old:
                lines.append(f'{sub}: added {json.dumps(new[k])[:120]}')
            elif k not in new:
                lines.append(f'{sub}: removed {json.dumps(old[k])[:120]}')
            else:
                lines += key_diffs(old[k], new[k], sub)
        return lines
    if isinstance(old, list) and isinstance(new, list) and \
            len(old) == len(new):
        return [line for i, (a, b) in enumerate(zip(old, new))
                for line in key_diffs(a, b, f'{path}[{i}]')]
    if old != new:
        return [f'{path}: {json.dumps(old)[:120]} -> {json.dumps(new)[:120]}']
    return []


def diff(before: str, after: str) -> int:
    """Print the differences between two dump folders; returns the number of
    configs whose Runner keys differ (or that are missing / fail to load)."""
    bad = same = 0
    names = sorted({p.name for p in Path(before).glob('*.json')} |
                   {p.name for p in Path(after).glob('*.json')})
    for name in names:
        a, b = Path(before, name), Path(after, name)
        label = name[:-len('.json')].replace('__', '/')
        if not (a.exists() and b.exists()):
            print(f'## {label}: only in {before if a.exists() else after}')
            bad += 1
            continue
        ta, tb = a.read_text(), b.read_text()
        if ta == tb:
            same += 1
            continue
        if ta.startswith('ERROR') or tb.startswith('ERROR'):
            print(f'## {label}\n  before: {ta.strip()}\n  after: {tb.strip()}')
            bad += 1
            continue
        lines = key_diffs(json.loads(ta), json.loads(tb))
        runner = [x for x in lines
                  if x[1:].split(':')[0].split('.')[0].split('[')[0]
                  in RUNNER_KEYS]
        print(f'## {label}')
        for x in runner:
            print(f'  RUNNER {x}')
        for x in lines:
            if x not in runner:
                print(f'  helper {x}')
        bad += bool(runner)
    print(f'{len(names)} configs: {same} identical, {bad} with Runner-level '
          'differences')
    return bad


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    sub = parser.add_subparsers(dest='cmd', required=True)
    d = sub.add_parser('dump', help='dump every config under ROOT')
    d.add_argument('root')
    d.add_argument('out_dir')
    c = sub.add_parser('diff', help='compare two dump folders')
    c.add_argument('before')
    c.add_argument('after')
    args = parser.parse_args(argv)
    if args.cmd == 'dump':
        if not osp.isdir(args.root):
            parser.error(f'{args.root!r} is not a folder of configs')
        print(f'{dump(args.root, args.out_dir)} configs dumped to '
              f'{args.out_dir}')
        return 0
    return 1 if diff(args.before, args.after) else 0


if __name__ == '__main__':
    sys.exit(main())
