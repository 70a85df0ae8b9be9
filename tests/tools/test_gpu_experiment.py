"""The one-GPU experiment script, run on the CPU at a tiny size: data
generation, the GPU data path configs (fp32 here), two seeds in parallel
processes, the merged table."""
import json
import os
import subprocess
import sys

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.slow


def test_gpu_experiment_script_tiny(tmp_path):
    env = dict(
        os.environ, PYTHON=sys.executable, OUT=str(tmp_path / 'out'),
        DATA=str(tmp_path / 'toy128'), SEEDS='0 1', PARALLEL='2',
        CLASSES='2', OBJECTS='5', VIEWS='10', SIZE='64', WORKERS='1',
        EPOCHS='1', PROBE_BATCH='16',
        EXTRA='--fp32 --probe-epochs 1 --recon-batches 1 --threads 1 '
              '--pair-probe none --synthetic-probe none',
        PRETRAIN_OPTIONS='train_dataloader.batch_size=16 '
                         'train_dataloader.num_workers=0 '
                         'train_dataloader.persistent_workers=False')
    proc = subprocess.run(
        ['bash', 'tools/benchmarks/gpu_equivariance_experiment.sh'],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert 'generating the toy set' in proc.stdout
    out = tmp_path / 'out'
    summary = json.load(open(out / 'summary.json'))
    assert summary['seeds'] == [0, 1]
    assert set(summary['metrics']['0']) == {'iBOT (control)', 'iBOT + ours',
                                            'random init'}
    assert 'r2_crop/rot_sie' in summary['metrics']['1']['iBOT + ours']
    assert set(summary['recon']['1']) == {'iBOT + ours'}
    assert set(summary['deltas']) == {'iBOT + ours', 'random init'}
    table = open(out / 'summary.md').read()
    assert 'Mean ± half the range over 2 seeds' in table
    log = open(out / 'seed0' / 'benchmark.log').read()
    assert 'InMemoryDataset: 80 images' in log  # 8 training objects x 10
