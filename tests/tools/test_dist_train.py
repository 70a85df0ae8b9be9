"""tools/dist_train.sh, dist_test.sh and slurm_train.sh on CPU (gloo)."""
import os
import os.path as osp
import re
import stat
import sys

import pytest

from tests.conftest import DEMO_CFG, REPO, data_root_options, run_tool

pytestmark = pytest.mark.slow


def test_dist_train_and_test_two_cpu_ranks(toy_shapes, tmp_path):
    wd = str(tmp_path / 'dist')
    proc = run_tool([
        'bash', 'tools/dist_train.sh', DEMO_CFG, '2', '--work-dir', wd,
        '--cfg-options', *data_root_options(toy_shapes),
        'train_cfg.max_epochs=1', 'train_dataloader.batch_size=4',
        'train_dataloader.num_workers=0', 'val_dataloader.num_workers=0',
        # SyncBN on CPU must work once a process group exists
        "model.backbone.norm_cfg.type=SyncBN",
    ], env={'PORT': '29613'})
    out = proc.stdout
    assert 'using the gloo backend instead of nccl' in out
    assert 'world size: 2, rank: 0, torch.distributed backend: gloo' in out
    # 32 training images / (2 ranks x 4) = 4 iterations per epoch
    assert re.search(r'Epoch\(train\) \[1\]\[4/4\]', out), out[-3000:]
    assert osp.isfile(osp.join(wd, 'epoch_1.pth'))
    assert 'accuracy/top1' in out

    proc = run_tool([
        'bash', 'tools/dist_test.sh', DEMO_CFG, osp.join(wd, 'epoch_1.pth'),
        '2', '--work-dir', wd, '--cfg-options',
        *data_root_options(toy_shapes), 'test_dataloader.num_workers=0',
        "model.backbone.norm_cfg.type=SyncBN"], env={'PORT': '29614'})
    # 16 val images over 2 ranks, gathered: one metric on rank 0
    assert re.search(r'Epoch\(test\) \[1/1\]\s+accuracy/top1: [0-9.]+',
                     proc.stdout), proc.stdout[-3000:]


def test_ibot_two_cpu_ranks(toy_shapes_64, tmp_path):
    root = toy_shapes_64
    cfg = osp.join(REPO, 'configs', 'ibot',
                   'ibot_vit-tiny-p16_1xb8-4e_toy-shapes-64px.py')
    proc = run_tool([
        'bash', 'tools/dist_train.sh', cfg, '2', '--work-dir',
        str(tmp_path / 'wd'), '--cfg-options',
        f'train_dataloader.dataset.data_root={root}',
        'train_cfg.max_epochs=1', 'train_dataloader.batch_size=4'],
        env={'PORT': '29615'})
    assert 'world size: 2' in proc.stdout
    # 16 images / (2 x 4) = 2 iterations, each with finite losses
    losses = re.findall(r'Epoch\(train\) \[1\]\[\d/2\].*?\sloss: ([0-9.]+)',
                        proc.stdout)
    assert len(losses) == 2


def _fake_slurm(bin_dir):
    """`srun` that runs its command as one SLURM task; `scontrol`."""
    bin_dir.mkdir()
    srun = bin_dir / 'srun'
    srun.write_text(
        '#!/usr/bin/env bash\n'
        'echo "srun args: $*" >&2\n'
        # drop srun's options (-p takes a separate value)
        'while [[ "$1" == -* ]]; do [[ "$1" == -p ]] && shift; shift; done\n'
        'export SLURM_PROCID=0 SLURM_NTASKS=1 SLURM_LOCALID=0 '
        'SLURM_NODELIST=localhost\n'
        'exec "$@"\n')
    scontrol = bin_dir / 'scontrol'
    scontrol.write_text('#!/usr/bin/env bash\necho localhost\n')
    for f in (srun, scontrol):
        f.chmod(f.stat().st_mode | stat.S_IEXEC)


def test_slurm_train_script(toy_shapes, tmp_path):
    _fake_slurm(tmp_path / 'bin')
    env = {'PATH': f'{tmp_path / "bin"}{os.pathsep}'
                   f'{osp.dirname(sys.executable)}{os.pathsep}'
                   f'{os.environ["PATH"]}',
           'GPUS': '1', 'ACCOUNT': 'proj', 'MASTER_PORT': '29616'}
    proc = run_tool([
        'bash', 'tools/slurm_train.sh', 'booster', 'job', DEMO_CFG,
        '--work-dir', str(tmp_path / 'wd'), '--cfg-options',
        *data_root_options(toy_shapes), 'train_cfg.max_epochs=1',
        'train_dataloader.num_workers=0', 'val_dataloader.num_workers=0'],
        env=env)
    out = proc.stdout
    assert re.search(r'srun args: -p booster --job-name=job --account=proj '
                     r'--gres=gpu:1 --ntasks=1 --ntasks-per-node=1', out)
    assert '--launcher slurm' in out  # appended after the user's args
    assert 'world size: 1, rank: 0, torch.distributed backend: gloo' in out
    assert osp.isfile(tmp_path / 'wd' / 'epoch_1.pth')
