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
                'ibot_vit-tiny-p16_1xb64-6e_toy-3diebench-64px.py')
COLUMNS = ['top-1', 'R²(rot3d)', 'R²(hue)', 'R²(rot) zero fill',
           'R²(rot) crop', 'R²(trans) zero fill', 'R²(trans) crop',
           'R²(color)', 'R²(blur)']


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


SMALL = ['train_dataloader.batch_size=8',
         'train_dataloader.dataset.num_views=3',
         'train_dataloader.num_workers=0',
         'train_dataloader.persistent_workers=False']
PROBE = ['train_dataloader.dataset.dataset.num_views=3',
         'test_dataloader.dataset.num_views=3',
         'train_dataloader.batch_size=8']


def _bench(tiny_toy, wd, *extra):
    return run_tool([
        sys.executable, 'tools/benchmarks/equivariance_benchmark.py',
        '--work-dir', str(wd), '--data-root', tiny_toy,
        '--pretrain-epochs', '1', '--probe-epochs', '1', *extra,
        '--pretrain-options', *SMALL, '--probe-options', *PROBE]).stdout


def test_benchmark_runner_end_to_end(tiny_toy, tmp_path):
    """The demo's arms (control, ours, random init), every probe, the
    collapse monitor and the reconstruction diagnostic."""
    wd = tmp_path / 'bench'
    out = _bench(tiny_toy, wd, '--recon-batches', '1')
    assert '[1/14] seed 0, iBOT (control): pretraining' in out
    table = open(wd / 'summary.md').read()
    header = '| method | ' + ' | '.join(COLUMNS) + ' |'
    assert header in table
    assert 'protocol crop' in table and 'protocol zero_fill' in table
    assert 'cls_mean_patch' in table
    summary = json.load(open(wd / 'summary.json'))
    assert summary['probes']['leakfree']['protocol'] == 'crop'
    assert summary['control'] == 'iBOT (control)'
    metrics = summary['metrics']['0']
    for method in ('iBOT (control)', 'iBOT + ours', 'random init'):
        m = metrics[method]
        assert 0 <= m['accuracy/top1'] <= 100
        for key in ('r2/rot_quat', 'r2/color_diff', 'r2_zero_fill/rot',
                    'r2_zero_fill/color', 'r2_zero_fill/blur',
                    'r2_zero_fill/trans', 'r2_crop/rot', 'r2_crop/trans'):
            assert -10 < m[f'{key}_sie'] <= 1
            assert -10 < m[f'{key}_mean'] <= 1
    # the collapse figures of both pretrained arms, the diagnostic of ours
    collapse = summary['collapse']['0']
    assert set(collapse) == {'iBOT (control)', 'iBOT + ours'}
    for s in collapse.values():
        assert 0 <= s['teacher_cls']['entropy'] <= 1
        assert 1 <= s['teacher_cls']['protos'] <= 256
    recon = summary['recon']['0']
    assert set(recon) == {'iBOT + ours'}
    assert recon['iBOT + ours']['samples'] == 6  # the held-out renders
    assert recon['iBOT + ours']['copy_v2'] > 0
    assert osp.getsize(recon['iBOT + ours']['picture']) > 1000
    assert 'Collapse monitor' in table and 'swap_z1' in table
    assert osp.getsize(wd / 'summary.png') > 1000
    assert osp.isfile(wd / 'iBOT_ours' / 'seed0' / 'pretrain' /
                      'epoch_1.pth')


def test_benchmark_two_seeds_mean_spread_and_differences(tiny_toy, tmp_path):
    wd = tmp_path / 'bench2'
    ctrl = osp.join(REPO, 'configs', 'equi_recon', 'ibot-equi-ctrl_vit-tiny-'
                    'p16_1xb64-6e_toy-3diebench-64px_all-rot.py')
    _bench(tiny_toy, wd, '--seeds', '0', '1', '--method', f'ctrl={ctrl}',
           '--method', f'random={ctrl}', '--checkpoint', 'random=random',
           '--pair-probe', 'none', '--synthetic-probe', 'none',
           '--leakfree-probe', 'none')
    s = json.load(open(wd / 'summary.json'))
    top1 = {seed: s['metrics'][seed]['random']['accuracy/top1']
            for seed in ('0', '1')}
    agg = s['aggregate']['random']['accuracy/top1']
    assert agg['mean'] == pytest.approx(sum(top1.values()) / 2)
    assert agg['spread'] == pytest.approx(abs(top1['0'] - top1['1']))
    d = s['deltas']['random']['accuracy/top1']
    ref = {seed: s['metrics'][seed]['ctrl']['accuracy/top1']
           for seed in ('0', '1')}
    assert d['mean'] == pytest.approx(
        sum(top1[k] - ref[k] for k in top1) / 2)
    table = open(wd / 'summary.md').read()
    assert 'Mean ± half the range over 2 seeds' in table
    assert 'Seed 0:' in table and 'Seed 1:' in table
    assert '| − ctrl |' in table
