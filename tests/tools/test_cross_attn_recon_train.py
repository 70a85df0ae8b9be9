"""[X]'s cross-attention reconstruction (CrossAttnRecon) through
tools/train.py on generated images, and its checkpoint through the backbone
exporter."""
import os.path as osp
import re
import sys

import pytest
import torch

from tests.conftest import REPO, run_tool, train_cmd

pytestmark = pytest.mark.slow
TINY = osp.join(REPO, 'configs', 'cross_attn_recon',
                'cross-attn-recon_vit-tiny-p16_1xb8-4e_toy-shapes-64px.py')


def _losses(out, key):
    return [float(x) for x in re.findall(rf'\s{key}: ([-0-9.naninf]+)', out)]


def test_tiny_trains_two_iterations_and_exports(toy_shapes_64, tmp_path):
    wd = str(tmp_path / 'wd')
    out = run_tool(train_cmd(TINY, wd, options=[
        f'train_dataloader.dataset.data_root={toy_shapes_64}',
        'train_cfg.max_epochs=1'])).stdout
    recon = _losses(out, 'loss_recon')
    assert len(recon) == 2  # 16 images / batch 8
    assert all(0 < v < 100 for v in recon)
    assert len(_losses(out, 'loss_inv')) == 2
    assert all(0 < v < 100 for v in _losses(out, 'loss_var'))
    ckpt = osp.join(wd, 'epoch_1.pth')
    assert osp.isfile(ckpt)
    dst = str(tmp_path / 'backbone.pth')
    run_tool([sys.executable, 'tools/model_converters/extract_backbone.py',
              ckpt, dst, '--source', 'student'])
    sd = torch.load(dst, weights_only=True)['state_dict']
    assert sd['pos_embed'].shape == (1, 17, 64)  # [CLS] + 4 x 4 tokens
    assert not any(k.startswith(('neck', 'decoder', 'expander'))
                   for k in sd)
