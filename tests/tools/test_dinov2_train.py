"""The tiny DINOv2 config through tools/train.py: 2 iterations on generated
images, finite DINO / iBOT / KoLeo terms, a checkpoint with the teacher."""
import math
import os.path as osp

import pytest
import torch

from tests.conftest import REPO, run_tool, train_cmd
from tests.tools.test_equi_recon_train import _losses

pytestmark = pytest.mark.slow
TINY = osp.join(REPO, 'configs', 'dinov2',
                'dinov2_vit-tiny-p16_1xb8-4e_toy-shapes-64px.py')


def test_tiny_dinov2_trains_two_iterations(toy_shapes_64, tmp_path):
    wd = str(tmp_path / 'wd')
    out = run_tool(train_cmd(TINY, wd, options=[
        f'train_dataloader.dataset.data_root={toy_shapes_64}',
        'train_cfg.max_epochs=1'])).stdout
    for key in ('loss_cls', 'loss_patch', 'loss_koleo'):
        values = _losses(out, key)
        assert len(values) == 2, (key, out[-3000:])  # 16 images / batch 8
        assert all(math.isfinite(v) for v in values), key
    ckpt = torch.load(osp.join(wd, 'epoch_1.pth'), map_location='cpu',
                      weights_only=False)
    keys = ckpt['state_dict']
    assert any(k.startswith('teacher.backbone.') for k in keys)
    assert 'ibot_loss.center' in keys  # kept (unused with Sinkhorn-Knopp)
