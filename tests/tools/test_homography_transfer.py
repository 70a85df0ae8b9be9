"""Homography transfer end to end on CPU: the S-COCO fine-tuning config on a
generated image folder (textured JPEGs, nested folders) with tiny sizes
(80x60 images, 32 px patches, rho 8, 32 px ViT-S input) through
``tools/train.py`` (2 iterations + validation) and ``tools/test.py
--metrics-out --out``:

* the loss is finite, validation logs a finite ``homography/mace``;
* training started from the exported backbone (its weights barely moved);
* the test metrics JSON holds ``homography/mace`` equal to the mean corner
  error recomputed from the dumped predictions, and ``mace_zero`` equal to
  the one of the test pairs regenerated in this process (deterministic
  pairs).
"""
import glob
import json
import math
import os.path as osp
import pickle
import re
import sys

import numpy as np
import pytest
import torch
from mmpretrain.models import VisionTransformer
from mmpretrain.models.utils import resize_pos_embed

from mmequi.datasets import HomographyPairs
from tests.conftest import REPO, run_tool, train_cmd
from tests.datasets.test_homography import write_textured_images

pytestmark = pytest.mark.slow
CFG = osp.join(REPO, 'configs', 'benchmarks', 'homography',
               'homography_vit-small-p16_8xb64-12e_s-coco.py')
TINY = dict(img_scale=(80, 60), patch_size=32, rho=8)


@pytest.fixture(scope='module')
def image_root(tmp_path_factory) -> str:
    root = str(tmp_path_factory.mktemp('s_coco'))
    write_textured_images(osp.join(root, 'train'),
                          [(120, 90), (100, 100), (160, 120), (90, 70)],
                          seed=0)
    write_textured_images(osp.join(root, 'val'), [(120, 90), (96, 64)],
                          seed=1)
    return root


@pytest.fixture(scope='module')
def export(tmp_path_factory) -> tuple:
    torch.manual_seed(0)
    sd = VisionTransformer(arch='deit-small', img_size=224,
                           patch_size=16).state_dict()
    sd = {k: torch.randn_like(v) * 0.02 for k, v in sd.items()}
    path = str(tmp_path_factory.mktemp('ckpt') / 'vit-s_backbone.pth')
    torch.save({'state_dict': sd, 'meta': {}}, path)
    return path, sd


def _options(root: str, ckpt: str) -> list:
    opts = [f'model.backbone.init_cfg.checkpoint={ckpt}',
            'model.backbone.img_size=32',
            'model.data_preprocessor.input_size=32',
            'model.offset_scale=8.0',
            'train_cfg.max_epochs=1', 'train_cfg.val_interval=1',
            'default_hooks.checkpoint.interval=1',
            'default_hooks.logger.interval=1']
    for split, prefix in (('train', 'train'), ('val', 'val'),
                          ('test', 'val')):
        ds = f'{split}_dataloader.dataset'
        opts += [f'{ds}.data_root={root}', f'{ds}.data_prefix={prefix}',
                 f'{ds}.img_scale=(80,60)', f'{ds}.patch_size=32',
                 f'{ds}.rho=8', f'{split}_dataloader.batch_size=2',
                 f'{split}_dataloader.num_workers=0']
    return opts


def test_train_then_test(image_root, export, tmp_path):
    ckpt_path, sd = export
    wd = str(tmp_path / 'wd')
    opts = _options(image_root, ckpt_path)
    out = run_tool(train_cmd(CFG, wd, options=opts)).stdout
    assert 'HomographyPairs' in out
    losses = [float(x) for x in re.findall(r'\sloss: ([-0-9.naninf]+)', out)]
    assert len(losses) == 2 and all(math.isfinite(v) for v in losses), out[
        -3000:]
    val = [float(x) for x in
           re.findall(r'homography/mace: ([-0-9.naninf]+)', out)]
    assert val and all(math.isfinite(v) and v > 0 for v in val)
    ckpt = osp.join(wd, 'epoch_1.pth')
    assert osp.isfile(ckpt)
    assert glob.glob(osp.join(wd, 'best_homography_mace_epoch_1.pth'))
    state = torch.load(ckpt, map_location='cpu',
                       weights_only=False)['state_dict']
    # started from the export: 2 AdamW steps at lr <= 5e-4 * 0.65 ** 4 move
    # a block weight by far less than its distance to a random init (~0.02)
    w = state['backbone.layers.3.attn.qkv.weight']
    assert (w - sd['layers.3.attn.qkv.weight']).abs().mean() < 1e-3
    assert state['head.fc.weight'].shape == (8, 128 * 16)
    # pos_embed: the export's 14 x 14 grid resized to 2 x 2 by mmpretrain's
    # load hook (cls entry kept)
    resized = resize_pos_embed(sd['pos_embed'], (14, 14), (2, 2), 'bicubic',
                               1)
    torch.testing.assert_close(state['backbone.pos_embed'], resized,
                               atol=1e-4, rtol=0)

    metrics_json = str(tmp_path / 'metrics.json')
    preds_pkl = str(tmp_path / 'preds.pkl')
    run_tool([sys.executable, 'tools/test.py', CFG, ckpt, '--work-dir',
              str(tmp_path / 'test_wd'), '--metrics-out', metrics_json,
              '--out', preds_pkl, '--cfg-options', *opts])
    with open(metrics_json) as f:
        metrics = json.load(f)['metrics']
    mace = metrics['homography/mace']
    assert math.isfinite(mace) and mace > 0
    with open(preds_pkl, 'rb') as f:
        preds = pickle.load(f)
    assert len(preds) == 2
    pred = np.stack([np.asarray(p['pred_offsets']) for p in preds])
    gt = np.stack([np.asarray(p['gt_offsets']) for p in preds])
    assert pred.shape == gt.shape == (2, 4, 2)
    err = np.sqrt(((pred - gt)**2).sum(-1)).mean(-1).mean()
    assert mace == pytest.approx(err, rel=1e-5)
    # the test pairs are the deterministic ones of (seed 0, index)
    ds = HomographyPairs(data_root=image_root, data_prefix='val',
                         test_mode=True, **TINY)
    offsets = np.stack([ds[int(p['sample_idx'])]['offsets'] for p in preds])
    np.testing.assert_allclose(gt, offsets, atol=1e-6)
    zero = np.sqrt((offsets**2).sum(-1)).mean(-1).mean()
    assert metrics['homography/mace_zero'] == pytest.approx(zero, rel=1e-5)
