"""NYU-Depth-v2 depth transfer end to end on a tiny generated NYU (real
layout, mmequi.testing.make_nyu), 64 px crops, CPU:

* the ViT-S depth config, with a tiny ViT, takes a finite training step on
  fixture samples (loss_silog, every head and backbone parameter moves);
* a backbone export in mmpretrain keys loads into the config's backbone
  with zero missing/unexpected keys;
* ``tools/train.py`` runs 2 iterations + validation from the export's
  weights, ``tools/test.py`` evaluates the saved checkpoint, and its RMSE /
  AbsRel equal a recomputation from the dumped predictions and the
  16-bit PNGs (mm -> m, Eigen crop, 1e-3 < depth < 10 m, per-image mean).
  (~13 s on 2 CPU cores, so not marked slow.)
"""
import glob
import json
import math
import os.path as osp
import pickle
import sys

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmpretrain.models.utils import resize_pos_embed
from mmseg.registry import MODELS

from mmequi.testing import make_nyu
from tests.conftest import REPO, run_tool, train_cmd
from tests.tools.test_mmseg_transfer import vit_s_export  # noqa: F401

S = osp.join(REPO, 'configs', 'benchmarks', 'mmseg',
             'depth_vit-small-p16_8xb2-12e_nyu-480x480.py')
CROP = 64  # train crop / slide window / backbone img_size
GRID = CROP // 16
SIZE = (96, 128)  # fixture frames (NYU: 480x640)


@pytest.fixture(scope='module')
def nyu(tmp_path_factory) -> str:
    return make_nyu(str(tmp_path_factory.mktemp('nyu')), num_train=4,
                    num_test=2, size=SIZE, seed=0)


def tiny_options(root: str) -> list:
    """64 px crops and windows, frames kept at their size in the test
    pipeline (pipeline indices as in _base_/nyu.py), 2 iterations."""
    loaders = [f'{s}_dataloader.{k}' for s in ('train', 'val', 'test')
               for k in (f'dataset.data_root={root}', 'num_workers=0',
                         'persistent_workers=False')]
    return loaders + [
        f'model.data_preprocessor.size=({CROP},{CROP})',
        f'model.backbone.img_size={CROP}',
        f'model.test_cfg.crop_size=({CROP},{CROP})',
        'model.test_cfg.stride=(32,32)',
        f'train_dataloader.dataset.pipeline.3.crop_size=({CROP},{CROP})',
        f'val_dataloader.dataset.pipeline.1.scale=(2000,{SIZE[0]})',
        f'test_dataloader.dataset.pipeline.1.scale=(2000,{SIZE[0]})',
        'train_dataloader.batch_size=2',
        'train_cfg.max_iters=2',
        'default_hooks.checkpoint.interval=2',
        'default_hooks.logger.interval=1',
    ]


def test_training_step_is_finite_with_a_tiny_vit(nyu):
    import mmequi  # noqa: F401
    from mmengine.dataset import pseudo_collate
    from mmengine.optim import build_optim_wrapper
    from mmseg.registry import DATASETS
    cfg = Config.fromfile(S)
    cfg.model.data_preprocessor.size = (CROP, CROP)
    cfg.train_dataloader.dataset.pipeline[3].crop_size = (CROP, CROP)
    cfg.model.backbone.update(
        img_size=CROP,
        arch=dict(embed_dims=32, num_layers=4, num_heads=2,
                  feedforward_channels=64),
        out_indices=(0, 1, 2, 3), drop_path_rate=0.0, init_cfg=None)
    cfg.model.decode_head.update(in_channels=[32] * 4,
                                 post_process_channels=[8, 16, 32, 32],
                                 channels=16)
    cfg.optim_wrapper.paramwise_cfg.num_layers = 4
    cfg.optim_wrapper.optimizer.lr = 1e-3
    init_default_scope('mmseg')
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    ds = DATASETS.build(dict(cfg.train_dataloader.dataset, data_root=nyu))
    data = pseudo_collate([ds[0], ds[1]])
    gt = data['data_samples'][0].gt_depth_map.data
    assert gt.shape == (1, CROP, CROP) and 0.5 <= gt[gt > 0].min()
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    before = {k: v.detach().clone() for k, v in model.named_parameters()}
    model.train()
    log = model.train_step(data, wrapper)
    assert set(log) == {'decode.loss_silog', 'loss'}
    assert math.isfinite(log['loss'].item()) and log['loss'].item() > 0
    for name, p in model.named_parameters():
        assert torch.isfinite(p).all(), name
        if name.startswith(('decode_head.', 'backbone.layers.3.')):
            assert not torch.equal(p, before[name]), name


def test_export_loads_strictly_into_the_config_backbone(vit_s_export):
    _, sd = vit_s_export
    init_default_scope('mmseg')
    cfg = Config.fromfile(S)
    vit = MODELS.build({k: v for k, v in cfg.model.backbone.items()
                        if k != 'init_cfg'})
    result = vit.load_state_dict(dict(sd), strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    assert vit.pos_embed.shape == (1, 1 + 30 * 30, 384)


def _metrics_from_predictions(preds: list) -> dict:
    """Per-image RMSE (m) / AbsRel over 1e-3 < gt < 10 m inside rows
    45..470, cols 41..600 (the Eigen crop, clipped to the frame), gt =
    PNG / 1000; averaged over the images."""
    rmse, abs_rel = [], []
    for sample in preds:
        gt = cv2.imread(sample['depth_map_path'],
                        cv2.IMREAD_UNCHANGED).astype(np.float64) / 1000
        pred = sample['pred_depth_map']['data'][0].double().numpy()
        assert pred.shape == gt.shape == SIZE
        mask = (gt > 1e-3) & (gt < 10)
        crop = np.zeros_like(mask)
        crop[45:471, 41:601] = True
        p, g = pred[mask & crop], gt[mask & crop]
        rmse.append(math.sqrt(np.mean((p - g) ** 2)))
        abs_rel.append(np.mean(np.abs(p - g) / g))
    return dict(rmse=float(np.mean(rmse)), abs_rel=float(np.mean(abs_rel)))


def test_train_two_iters_then_test(nyu, vit_s_export, tmp_path):
    ckpt, sd = vit_s_export
    wd = str(tmp_path / 'train')
    options = tiny_options(nyu) + [
        f'model.backbone.init_cfg.checkpoint={ckpt}',
        'train_cfg.val_interval=2']
    out = run_tool(train_cmd(S, wd, options=options)).stdout
    assert 'NYUDataset' in out
    scalars = glob.glob(osp.join(wd, '*', 'vis_data', 'scalars.json'))
    assert len(scalars) == 1
    with open(scalars[0]) as f:
        rows = [json.loads(line) for line in f]
    losses = [r for r in rows if 'loss' in r]
    assert [r['iter'] for r in losses] == [1, 2]
    assert all(math.isfinite(r['decode.loss_silog']) for r in losses)
    val = [r for r in rows if 'rmse' in r]
    assert len(val) == 1 and 0 < val[0]['rmse'] < 10
    # training started from the export (lr ~1e-8 in warm-up)
    saved = osp.join(wd, 'iter_2.pth')
    state = torch.load(saved, map_location='cpu',
                       weights_only=False)['state_dict']
    for key, value in sd.items():
        if key == 'pos_embed':
            value = resize_pos_embed(value, (14, 14), (GRID, GRID),
                                     'bicubic', 1)
        torch.testing.assert_close(state['backbone.' + key], value, rtol=0,
                                   atol=1e-5, msg=key)

    pkl = str(tmp_path / 'preds.pkl')
    metrics_json = str(tmp_path / 'metrics.json')
    run_tool([sys.executable, 'tools/test.py', S, saved, '--work-dir',
              str(tmp_path / 'test'), '--out', pkl, '--metrics-out',
              metrics_json, '--cfg-options', *tiny_options(nyu)])
    with open(metrics_json) as f:
        logged = json.load(f)['metrics']
    assert {'rmse', 'abs_rel', 'd1', 'silog'} <= set(logged)
    with open(pkl, 'rb') as f:
        preds = pickle.load(f)
    assert len(preds) == 2
    want = _metrics_from_predictions(preds)
    assert logged['rmse'] == pytest.approx(want['rmse'], rel=1e-4)
    assert logged['abs_rel'] == pytest.approx(want['abs_rel'], rel=1e-4)
