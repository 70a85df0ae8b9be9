"""A diverged run through tools/train.py (issue 14): lr=1e6 on the tiny
iBOT config stops at the first non-finite loss with exit code 1 and a
final line naming the iteration and the loss terms; it wrote a checkpoint
for every iteration before that one, none after, and all hold only finite
tensors."""
import glob
import os.path as osp
import re

import pytest
import torch

from tests.conftest import REPO, run_tool, train_cmd


CFG = osp.join(REPO, 'configs', 'ibot',
               'ibot_vit-tiny-p16_1xb8-4e_toy-shapes-64px.py')


def test_diverged_run_stops_without_nan_checkpoints(toy_shapes_64, tmp_path):
    wd = str(tmp_path / 'wd')
    proc = run_tool(train_cmd(CFG, wd, options=[
        f'train_dataloader.dataset.data_root={toy_shapes_64}',
        'train_cfg.max_epochs=4', 'optim_wrapper.optimizer.lr=1e6',
        'param_scheduler=[]', 'default_hooks.checkpoint.max_keep_ckpts=10',
        'default_hooks.checkpoint.by_epoch=False',
        'default_hooks.checkpoint.interval=1',
        'default_hooks.logger.interval=1']), check=False)
    out = proc.stdout
    assert proc.returncode == 1, out[-3000:]
    last = out.strip().splitlines()[-1]
    m = re.match(r'NonFiniteLossError: non-finite loss at iteration (\d+)/8 '
                 r'\(epoch (\d+), batch (\d+);', last)
    assert m is not None, out[-3000:]
    it, epoch, batch = map(int, m.groups())
    assert it == 2 * (epoch - 1) + batch > 1  # 2 iterations per epoch
    assert re.search(r'\): non-finite: loss, loss_cls, loss_patch; values: '
                     r'loss=(nan|inf) \(non-finite\), loss_cls=', last), last
    assert 'Training stopped' in last
    ckpts = glob.glob(osp.join(wd, 'iter_*.pth'))
    assert sorted(int(osp.basename(p)[5:-4]) for p in ckpts) == \
        list(range(1, it))
    from mmequi.compat.checkpoint import load_checkpoint_file
    for path in ckpts:
        sd = load_checkpoint_file(path)['state_dict']
        bad = [k for k, v in sd.items()
               if v.is_floating_point() and not torch.isfinite(v).all()]
        assert not bad, (path, bad)


@pytest.mark.slow
def test_two_ranks_stop_together(toy_shapes_64, tmp_path):
    """Two gloo ranks (tools/dist_train.sh): the finite flag is reduced over
    the ranks, so both stop at the same iteration (no rank left waiting in
    a collective) and the launcher exits non-zero."""
    proc = run_tool([
        'bash', 'tools/dist_train.sh', CFG, '2', '--work-dir',
        str(tmp_path / 'wd'), '--cfg-options',
        f'train_dataloader.dataset.data_root={toy_shapes_64}',
        'train_cfg.max_epochs=4', 'train_dataloader.batch_size=4',
        'optim_wrapper.optimizer.lr=1e6', 'param_scheduler=[]'],
        env={'PORT': '29617'}, check=False, timeout=300)
    assert proc.returncode != 0
    stops = re.findall(r'NonFiniteLossError: non-finite loss at iteration '
                       r'(\d+)/', proc.stdout)
    assert len(stops) == 2 and len(set(stops)) == 1, proc.stdout[-3000:]
