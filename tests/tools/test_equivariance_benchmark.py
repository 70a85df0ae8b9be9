"""The equivariance benchmark end to end on a tiny generated 3DIEBench:
the probes through tools/train.py + tools/test.py, and the benchmark runner
that `make demo` calls (pretraining both methods, all probes, the table)."""
import json
import os.path as osp
import re
import sys

import pytest

from tests.conftest import REPO, run_tool, train_cmd

pytestmark = pytest.mark.slow
EQ = osp.join(REPO, 'configs', 'benchmarks', 'equivariance')
PAIR = osp.join(EQ, 'probe-3diebench_vit-tiny-p16_1xb128-30e_'
                'toy-3diebench-64px.py')
IBOT = osp.join(REPO, 'configs', 'ibot',
                'ibot_vit-tiny-p16_1xb64-5e_toy-3diebench-64px.py')
COLUMNS = ['top-1', 'R²(rot3d)', 'R²(hue)', 'R²(rot)', 'R²(color)',
           'R²(blur)', 'R²(trans)']


@pytest.fixture(scope='module')
def tiny_toy(tmp_path_factory) -> str:
    """2 classes x 5 objects (4 train / 1 val each) x 3 views, 64 px."""
    from mmequi.datasets.toy_3d import make_toy_3diebench
    root = str(tmp_path_factory.mktemp('tiny_toy3d'))
    make_toy_3diebench(root, classes=2, objects_per_class=5, views=3,
                       size=64, workers=1)
    return root


def _data(root, loaders=('train', 'val', 'test')):
    out = []
    for split in loaders:
        key = f'{split}_dataloader.dataset'
        if split == 'train':
            key += '.dataset'  # CachedDataset
        out += [f'{key}.data_root={root}', f'{key}.num_views=3']
    return out


def _random_backbone(tmp_path):
    sys.path.insert(0, osp.join(REPO, 'tools', 'benchmarks'))
    from equivariance_benchmark import random_backbone
    return random_backbone(IBOT, 0, str(tmp_path / 'random.pth'))


def test_pair_probe_train_then_test(tiny_toy, tmp_path):
    ckpt = _random_backbone(tmp_path)
    wd = str(tmp_path / 'probe')
    out = run_tool(train_cmd(PAIR, wd, options=_data(tiny_toy) + [
        f'model.backbone_checkpoint={ckpt}', 'model.prefix=backbone.',
        'train_cfg.max_epochs=2', 'train_cfg.val_interval=2',
        'default_hooks.checkpoint.interval=2'])).stdout
    assert 'loaded 55 backbone tensors' in out
    val = re.findall(r'Epoch\(val\).*r2/rot_quat_sie: ([-0-9.]+)', out)
    assert len(val) == 1
    test = run_tool([sys.executable, 'tools/test.py', PAIR,
                     osp.join(wd, 'epoch_2.pth'), '--work-dir',
                     str(tmp_path / 'test'), '--cfg-options',
                     *_data(tiny_toy, ('test', ))]).stdout
    # the same frozen features and heads give the same numbers again
    got = re.findall(r'Epoch\(test\).*r2/rot_quat_sie: ([-0-9.]+)', test)
    assert got == val
    for key in ('rot_quat_mean', 'color_diff_sie', 'color_diff_mean'):
        value = float(re.search(rf'r2/{key}: ([-0-9.]+)', test).group(1))
        assert value == value and -10 < value <= 1  # finite, an R²


def test_benchmark_runner_end_to_end(tiny_toy, tmp_path):
    wd = tmp_path / 'bench'
    small = ['train_dataloader.batch_size=8',
             'train_dataloader.dataset.num_views=3',
             'train_dataloader.dataset.pairs_per_object=2',
             'train_dataloader.num_workers=0',
             'train_dataloader.persistent_workers=False']
    probe = ['train_dataloader.dataset.dataset.num_views=3',
             'test_dataloader.dataset.num_views=3',
             'train_dataloader.batch_size=8']
    proc = run_tool([
        sys.executable, 'tools/benchmarks/equivariance_benchmark.py',
        '--work-dir', str(wd), '--data-root', tiny_toy,
        '--pretrain-epochs', '1', '--probe-epochs', '1',
        '--method', f'iBOT={IBOT}',
        '--method', 'random init=' + IBOT, '--checkpoint',
        'random init=random',
        '--pretrain-options', *small, '--probe-options', *probe])
    out = proc.stdout
    assert '[1/7] iBOT: pretraining' in out
    table = open(wd / 'summary.md').read()
    header = '| method | ' + ' | '.join(COLUMNS) + ' |'
    assert header in table
    rows = [line for line in table.splitlines()
            if line.startswith('| iBOT |') or line.startswith('| random')]
    assert len(rows) == 4  # r2_sie table + r2_mean table, 2 methods each
    metrics = json.load(open(wd / 'summary.json'))['metrics']
    for method in ('iBOT', 'random init'):
        m = metrics[method]
        assert 0 <= m['accuracy/top1'] <= 100
        for key in ('rot_quat', 'color_diff', 'rot', 'color', 'blur',
                    'trans'):
            assert -10 < m[f'r2/{key}_sie'] <= 1
            assert -10 < m[f'r2/{key}_mean'] <= 1
    assert osp.getsize(wd / 'summary.png') > 1000
    assert osp.isfile(wd / 'iBOT' / 'pretrain' / 'epoch_1.pth')
