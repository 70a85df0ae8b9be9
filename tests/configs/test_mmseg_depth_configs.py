"""NYU-Depth-v2 depth configs (configs/benchmarks/mmseg/depth_*): they load,
build mmseg's DepthEstimator on mmpretrain's ViT with mmequi's DPT depth
head, run 12 NYU epochs (no URL and a required checkpoint: checked for
every mmseg config in test_mmseg_configs.py), and their data/evaluator
wiring turns a 16-bit PNG of 1000 into
1.0 m and scores RMSE / AbsRel inside the Eigen crop and below 10 m exactly
as a hand computation."""
import math
import os
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS

from tests.configs.test_mmseg_configs import build_checked_vit_model
from tests.conftest import REPO

CFG_DIR = osp.join(REPO, 'configs', 'benchmarks', 'mmseg')
S = osp.join(CFG_DIR, 'depth_vit-small-p16_8xb2-12e_nyu-480x480.py')
L = osp.join(CFG_DIR, 'depth_vit-large-p16_8xb2-12e_nyu-480x480.py')
# (config, embed dims, blocks, heads, out_indices, DPT reassemble widths)
ARCHS = [(S, 384, 12, 6, (3, 5, 7, 11), [48, 96, 192, 384]),
         (L, 1024, 24, 16, (7, 11, 15, 23), [256, 512, 1024, 1024])]


@pytest.mark.parametrize('path,dims,depth,heads,out_indices,post', ARCHS)
def test_config_builds_the_depth_estimator(path, dims, depth, heads,
                                           out_indices, post):
    cfg = Config.fromfile(path)
    assert cfg.model.type == 'DepthEstimator'
    assert cfg.model.data_preprocessor.seg_pad_val == 0  # padded = no depth
    assert dict(cfg.model.test_cfg) == dict(
        mode='slide_flip', crop_size=(480, 480), stride=(160, 160))
    model = build_checked_vit_model(cfg, dims, depth, heads, out_indices,
                                    img_size=480)
    assert not model.with_neck and not model.with_auxiliary_head
    head = model.decode_head
    assert type(head).__name__ == 'DPTDepthHead'
    assert [p.in_channels for p in head.projects] == [dims] * 4
    assert [p.out_channels for p in head.projects] == post
    assert head.max_depth == 10.0 and model.out_channels == 1
    assert [type(f).__name__ for f in head.loss_decode] == ['SiLogLoss']
    ow = cfg.optim_wrapper
    assert ow.constructor == 'ViTLayerDecayOptimWrapperConstructor'
    assert ow.paramwise_cfg.num_layers == depth


@pytest.mark.parametrize('path', [S, L])
def test_schedule_is_12_nyu_epochs_at_16_images(path):
    cfg = Config.fromfile(path)
    assert cfg.train_dataloader.batch_size * 8 == 16  # 8xb2
    max_iters = 12 * math.ceil(24231 / 16)
    assert max_iters == 18180
    assert cfg.train_cfg.type == 'IterBasedTrainLoop'
    assert cfg.train_cfg.max_iters == max_iters
    assert max_iters % cfg.train_cfg.val_interval == 0
    assert cfg.default_hooks.checkpoint.interval == cfg.train_cfg.val_interval
    warm, poly = cfg.param_scheduler
    assert (warm.type, warm.begin, warm.end) == ('LinearLR', 0, 1500)
    assert (poly.type, poly.begin, poly.end) == ('PolyLR', 1500, max_iters)
    ds = cfg.train_dataloader.dataset
    assert ds.type == 'NYUDataset' and ds.data_root == 'data/nyu'
    assert dict(ds.data_prefix) == dict(img_path='images/train',
                                        depth_map_path='annotations/train')
    assert dict(cfg.test_dataloader.dataset.data_prefix) == dict(
        img_path='images/test', depth_map_path='annotations/test')
    crop = [t for t in ds.pipeline if t.type == 'RandomCrop']
    assert crop[0].crop_size == (480, 480)
    for pipe in (ds.pipeline, cfg.test_dataloader.dataset.pipeline):
        ann = [t for t in pipe if t.type == 'LoadDepthAnnotation']
        assert ann and ann[0].depth_rescale_factor == 1e-3
    assert cfg.test_evaluator == dict(
        type='DepthMetric', min_depth_eval=1e-3, max_depth_eval=10.0,
        crop_type='nyu_crop')


def test_head_gets_the_full_lr_and_blocks_the_decayed_one():
    from mmengine.optim import build_optim_wrapper
    cfg = Config.fromfile(S)
    init_default_scope('mmseg')
    model = MODELS.build(cfg.model)
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    lr = cfg.optim_wrapper.optimizer.lr
    rate = cfg.optim_wrapper.paramwise_cfg.layer_decay_rate
    by_param = {id(p): g for g in wrapper.optimizer.param_groups
                for p in g['params']}
    named = dict(model.named_parameters())
    checks = {
        'backbone.layers.0.attn.qkv.weight': (lr * rate ** 12, 0.05),
        'decode_head.projects.0.weight': (lr, 0.05),
        'decode_head.depth_conv3.bias': (lr, 0.0),
    }
    for name, (want_lr, want_wd) in checks.items():
        group = by_param[id(named[name])]
        assert math.isclose(group['lr'], want_lr, rel_tol=1e-9), name
        assert group['weight_decay'] == want_wd, name


def _write_pair(root: str, stem: str, depth_mm: np.ndarray) -> None:
    for sub in ('images/test', 'annotations/test'):
        os.makedirs(osp.join(root, sub), exist_ok=True)
    img = np.full(depth_mm.shape + (3, ), 128, np.uint8)
    assert cv2.imwrite(osp.join(root, 'images/test', stem + '.jpg'), img)
    assert cv2.imwrite(osp.join(root, 'annotations/test', stem + '.png'),
                       depth_mm.astype(np.uint16))


def _hand_metrics(pred: np.ndarray, gt: np.ndarray) -> tuple:
    """RMSE (m) and AbsRel of one image over 1e-3 < gt < 10 m inside the
    Eigen crop (rows 45..470, cols 41..600 of 480x640)."""
    mask = (gt > 1e-3) & (gt < 10.0)
    crop = np.zeros_like(mask)
    crop[45:471, 41:601] = True
    mask &= crop
    p, g = pred[mask].astype(np.float64), gt[mask].astype(np.float64)
    return (math.sqrt(np.mean((p - g) ** 2)),
            float(np.mean(np.abs(p - g) / g)))


def test_pipeline_and_metric_wiring_match_a_hand_computation(tmp_path):
    """Two 640x480 test images through the config's test pipeline and
    test evaluator: PNG 1000 -> 1.0 m; holes, depths >= 10 m and pixels
    outside the Eigen crop are not scored; per-image RMSE / AbsRel are
    averaged over the images."""
    import mmequi  # noqa: F401
    from mmengine.dataset import Compose
    from mmengine.evaluator import Evaluator
    from mmengine.structures import PixelData
    cfg = Config.fromfile(S)
    init_default_scope('mmseg')
    root = str(tmp_path)
    rng = np.random.default_rng(0)
    gts, preds, samples = [], [], []
    for i, stem in enumerate(('bedroom_00000', 'kitchen_00001')):
        depth = rng.integers(500, 9500, (480, 640))
        depth[100, 100] = 1000
        depth[200:210, 300:310] = 0  # no measurement
        depth[300:305, 50:60] = 12000  # beyond max_depth
        _write_pair(root, stem, depth)
        results = Compose(cfg.test_dataloader.dataset.pipeline)(dict(
            img_path=osp.join(root, 'images/test', stem + '.jpg'),
            depth_map_path=osp.join(root, 'annotations/test', stem + '.png'),
            seg_fields=[], category_id=-1))
        sample = results['data_samples']
        gt = sample.gt_depth_map.data[0].numpy()
        assert gt.shape == (480, 640)
        assert gt[100, 100] == pytest.approx(1.0)  # 1000 mm -> 1.0 m
        np.testing.assert_allclose(gt, depth / 1000.0, rtol=1e-6)
        pred = gt * (1.1 + 0.1 * i) + 0.05
        pred[gt == 0] = 3.0  # any value at the holes
        pred[:45] = 100.0  # outside the Eigen crop: wrong, not scored
        pred[:, 601:] = 100.0
        sample.pred_depth_map = PixelData(data=torch.from_numpy(pred)[None])
        gts.append(gt)
        preds.append(pred)
        samples.append(sample)
    evaluator = Evaluator(cfg.test_evaluator)
    evaluator.process(data_samples=samples, data_batch={})
    got = evaluator.evaluate(2)
    hand = [_hand_metrics(p, g) for p, g in zip(preds, gts)]
    assert got['rmse'] == pytest.approx(np.mean([h[0] for h in hand]),
                                        rel=1e-5)
    assert got['abs_rel'] == pytest.approx(np.mean([h[1] for h in hand]),
                                           rel=1e-5)
    # prediction = 1.1 gt + 0.05 everywhere scored: AbsRel > 0.1
    assert 0.1 < got['abs_rel'] < 0.3
