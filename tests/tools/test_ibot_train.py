"""iBOT through tools/train.py on generated images: trains, and an
interrupted run resumed with --resume ends bit-identical to a straight run
(student, teacher, centres, optimizer state)."""
import os.path as osp
import re
import shutil

import pytest
import torch

from tests.conftest import REPO, run_tool, train_cmd

pytestmark = pytest.mark.slow

CFG = osp.join(REPO, 'configs', 'ibot',
               'ibot_vit-tiny-p16_1xb8-4e_toy-shapes-64px.py')


def _opts(root):
    return [f'train_dataloader.dataset.data_root={root}',
            'randomness.deterministic=True', 'train_cfg.max_epochs=3',
            'default_hooks.checkpoint.max_keep_ckpts=5']


def test_train_and_exact_resume(toy_shapes_64, tmp_path):
    straight = str(tmp_path / 'straight')
    out = run_tool(train_cmd(CFG, straight, options=_opts(toy_shapes_64))).stdout
    losses = [float(x) for x in re.findall(r'\sloss: ([-0-9.naninf]+)', out)]
    assert len(losses) == 6  # 16 images / batch 8 = 2 iterations x 3 epochs
    assert all(torch.isfinite(torch.tensor(losses)))
    assert 'teacher_momentum' in out and 'Training precision: fp32' in out

    # "interrupt" after epoch 2: start a new work dir from that checkpoint
    resumed = tmp_path / 'resumed'
    resumed.mkdir()
    shutil.copy(osp.join(straight, 'epoch_2.pth'), resumed / 'epoch_2.pth')
    out = run_tool(train_cmd(CFG, str(resumed), '--resume',
                             str(resumed / 'epoch_2.pth'),
                             options=_opts(toy_shapes_64))).stdout
    assert 'resumed epoch: 2' in out

    from mmequi.compat.checkpoint import load_checkpoint_file
    a = load_checkpoint_file(osp.join(straight, 'epoch_3.pth'))
    b = load_checkpoint_file(str(resumed / 'epoch_3.pth'))
    keys = set(a['state_dict'])
    assert keys == set(b['state_dict'])
    assert {'ibot_loss.center', 'ibot_loss.center2'} <= keys
    assert any(k.startswith('teacher.backbone.') for k in keys)
    for k in keys:
        torch.testing.assert_close(a['state_dict'][k], b['state_dict'][k],
                                   rtol=0, atol=0, msg=k)
    for k, st in a['optimizer']['state'].items():
        torch.testing.assert_close(st['exp_avg_sq'],
                                   b['optimizer']['state'][k]['exp_avg_sq'],
                                   rtol=0, atol=0)
    # the centres and the teacher did move during the resumed epoch
    c = load_checkpoint_file(osp.join(straight, 'epoch_2.pth'))['state_dict']
    assert not torch.equal(c['ibot_loss.center'],
                           b['state_dict']['ibot_loss.center'])
    assert not torch.equal(c['teacher.backbone.cls_token'],
                           b['state_dict']['teacher.backbone.cls_token'])
