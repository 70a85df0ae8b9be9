"""tools/dist_train.sh with 2 processes on CPU (gloo)."""
import os.path as osp
import re

import pytest

from tests.conftest import DEMO_CFG, data_root_options, run_tool

pytestmark = pytest.mark.slow


def test_dist_train_two_cpu_ranks(toy_shapes, tmp_path):
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
