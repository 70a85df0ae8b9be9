"""COCO Mask R-CNN transfer end to end: the ViT-S config through
tools/train.py (2 iterations + evaluation) and tools/test.py on a tiny
generated COCO-layout fixture, on CPU, from a backbone export of a
(synthetic) mmequi pretraining checkpoint; strict loading of that export
into the configs' backbones at 1024 px and at the test's 128 px; and the
fixture + CocoMetric scoring ground-truth "predictions" at AP 1.

Runs mmequi's mmcv op backend (torchvision nms / roi_align) through mmdet's
RPN, RoI heads and mask targets, and pycocotools through CocoMetric."""
import glob
import json
import math
import os.path as osp
import sys

import pytest
import torch
from mmengine.config import Config

from tests.conftest import REPO, run_tool, train_cmd

CFG = osp.join(REPO, 'configs', 'benchmarks', 'mmdet',
               'mask-rcnn_vit-small-p16_simplefpn_8xb2-1x_coco.py')
SIZE = 128  # test image size (the configs use 1024)
METRICS = ('coco/bbox_mAP', 'coco/bbox_mAP_50', 'coco/segm_mAP',
           'coco/segm_mAP_50')


@pytest.fixture(scope='module')
def coco(tmp_path_factory) -> str:
    from mmequi.testing import make_coco
    return make_coco(str(tmp_path_factory.mktemp('coco')), num_train=4,
                     num_val=2, size=(96, 128), num_classes=3, seed=0)


@pytest.fixture(scope='module')
def backbone_ckpt(tmp_path_factory) -> str:
    """A ViT-S/16 export as tools/model_converters/extract_backbone.py
    writes it, from a fake pretraining checkpoint (teacher + student)."""
    from mmequi.models.utils.vit_convert import extract_backbone
    from mmpretrain.models import VisionTransformer
    torch.manual_seed(0)
    sd = VisionTransformer(arch='deit-small', img_size=224,
                           patch_size=16).state_dict()
    full = {'state_dict': {
        **{f'teacher.backbone.{k}': v for k, v in sd.items()},
        **{f'backbone.{k}': torch.zeros_like(v) for k, v in sd.items()}}}
    exported, info = extract_backbone(full, source='teacher')
    assert set(exported) == set(sd)
    path = str(tmp_path_factory.mktemp('ckpt') / 'vit-small_backbone.pth')
    torch.save({'state_dict': exported, 'meta': info}, path)
    return path


def _options(root: str, ckpt: str):
    ann = f'{root}/annotations/instances_val2017.json'
    return [
        *[f'{s}_dataloader.dataset.data_root={root}'
          for s in ('train', 'val', 'test')],
        f'val_evaluator.ann_file={ann}', f'test_evaluator.ann_file={ann}',
        # LSJ at SIZE instead of 1024 (pipeline indices of the data config)
        f'train_dataloader.dataset.pipeline.2.scale=({SIZE},{SIZE})',
        f'train_dataloader.dataset.pipeline.3.crop_size=({SIZE},{SIZE})',
        f'val_dataloader.dataset.pipeline.1.scale=({SIZE},{SIZE})',
        f'test_dataloader.dataset.pipeline.1.scale=({SIZE},{SIZE})',
        f'model.backbone.img_size={SIZE}',
        f'model.data_preprocessor.pad_size_divisor={SIZE}',
        f'model.backbone.init_cfg.checkpoint={ckpt}',
        # fewer RoIs: fast on CPU
        'model.train_cfg.rpn_proposal.nms_pre=400',
        'model.train_cfg.rpn_proposal.max_per_img=200',
        'model.train_cfg.rcnn.sampler.num=64',
        # an untrained 80-class head scores ~1/81 < 0.05: keep all boxes so
        # that COCOeval has detections to score
        'model.test_cfg.rcnn.score_thr=0.0',
        *[f'{s}_dataloader.{k}' for s in ('train', 'val', 'test')
          for k in ('num_workers=0', 'persistent_workers=False')],
        'train_dataloader.batch_size=2',  # 4 images -> 2 iterations
        'train_cfg.max_epochs=1', 'train_cfg.val_interval=1',
        'default_hooks.logger.interval=1',
        'randomness.seed=0',
    ]


def _json_logs(work_dir: str):
    """Records of the runner's json logs: <wd>/<time>/vis_data/<time>.json
    (training) or <wd>/<time>/<time>.json (tools/test.py)."""
    records = []
    for path in sorted(
            glob.glob(osp.join(work_dir, '*', 'vis_data', '*_*.json')) +
            glob.glob(osp.join(work_dir, '*', '*_*.json'))):
        with open(path) as f:
            records += [json.loads(line) for line in f if line.strip()]
    return records


def _check_metrics(record: dict):
    for key in METRICS:
        assert key in record, (key, sorted(record))
        value = float(record[key])
        assert math.isfinite(value) and 0.0 <= value <= 1.0, (key, value)


@pytest.mark.slow
def test_train_two_iterations_evaluate_and_test(coco, backbone_ckpt,
                                                tmp_path):
    wd = str(tmp_path / 'wd')
    options = _options(coco, backbone_ckpt)
    out = run_tool(train_cmd(CFG, wd, options=options)).stdout
    assert 'SimpleFPN' in out and 'CocoDataset' in out
    assert 'Resize the pos_embed shape from torch.Size([1, 197, 384]) to ' \
        'torch.Size([1, 65, 384])' in out  # checkpoint loaded at 128 px

    records = _json_logs(wd)
    train = [r for r in records if 'loss' in r]
    assert [r['iter'] for r in train] == [1, 2]
    for r in train:
        for key in ('loss', 'loss_rpn_cls', 'loss_rpn_bbox', 'loss_cls',
                    'loss_bbox', 'loss_mask'):
            assert math.isfinite(r[key]), (key, r)
    val = [r for r in records if 'coco/bbox_mAP' in r]
    assert len(val) == 1
    _check_metrics(val[0])

    # the trained checkpoint still holds the pretrained backbone (2 warm-up
    # steps at lr <= 1e-7 x layer scale move it by < 1e-6)
    ckpt = osp.join(wd, 'epoch_1.pth')
    state = torch.load(ckpt, map_location='cpu',
                       weights_only=False)['state_dict']
    init = torch.load(backbone_ckpt, map_location='cpu',
                      weights_only=True)['state_dict']
    for key in ('layers.0.attn.qkv.weight', 'layers.11.ffn.layers.1.weight',
                'patch_embed.projection.weight', 'ln1.weight'):
        torch.testing.assert_close(state[f'backbone.{key}'], init[key],
                                   atol=1e-5, rtol=0)
    assert state['backbone.pos_embed'].shape == (1, 1 + 8 * 8, 384)
    assert 'neck.lateral_convs.0.conv.weight' in state

    twd = str(tmp_path / 'test_wd')
    metrics_out = str(tmp_path / 'metrics.json')
    run_tool([sys.executable, 'tools/test.py', CFG, ckpt, '--work-dir', twd,
              '--metrics-out', metrics_out, '--cfg-options', *options])
    test_records = [r for r in _json_logs(twd) if 'coco/bbox_mAP' in r]
    assert len(test_records) == 1
    _check_metrics(test_records[0])
    with open(metrics_out) as f:
        _check_metrics(json.load(f)['metrics'])
    # same weights, same data, deterministic test pipeline: same numbers
    for key in METRICS:
        assert math.isclose(test_records[0][key], val[0][key],
                            abs_tol=1e-6), key


@pytest.mark.slow
@pytest.mark.parametrize('img_size', [1024, SIZE])
def test_export_loads_strictly_into_the_config_backbone(backbone_ckpt,
                                                        img_size):
    """Zero missing / unexpected keys after mmpretrain's pos-embed resize
    (mmengine's Pretrained init loads with strict=False, so check here)."""
    from mmpretrain.models import VisionTransformer
    from mmpretrain.models.utils import resize_pos_embed
    cfg = Config.fromfile(CFG)
    bb = dict(cfg.model.backbone)
    assert bb.pop('type') == 'mmpretrain.VisionTransformer'
    bb.pop('init_cfg')
    bb['img_size'] = img_size
    vit = VisionTransformer(**bb)  # (no registry: any default scope)
    sd = torch.load(backbone_ckpt, map_location='cpu',
                    weights_only=True)['state_dict']
    result = vit.load_state_dict(dict(sd), strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    grid = img_size // 16
    assert vit.pos_embed.shape == (1, 1 + grid * grid, 384)
    want = resize_pos_embed(sd['pos_embed'], (14, 14), (grid, grid),
                            mode='bicubic', num_extra_tokens=1)
    torch.testing.assert_close(vit.pos_embed.data, want)
    torch.testing.assert_close(vit.pos_embed.data[:, 0], sd['pos_embed'][:,
                                                                         0])


def test_fixture_ground_truth_scores_ap_one(coco):
    """The fixture through the configs' CocoDataset and CocoMetric: its own
    boxes and polygon masks as predictions give bbox and segm AP = 1 (ids,
    labels, areas, boxes and polygons are consistent, and the 80-category
    list maps labels to ids as on real COCO)."""
    import numpy as np
    from mmdet.registry import DATASETS, METRICS as DET_METRICS
    from mmdet.structures.mask import PolygonMasks
    from mmengine.registry import init_default_scope
    cfg = Config.fromfile(CFG)
    init_default_scope('mmdet')
    ds_cfg = dict(cfg.val_dataloader.dataset, data_root=coco,
                  pipeline=[], test_mode=True)
    dataset = DATASETS.build(ds_cfg)
    assert len(dataset) == 2
    ann = f'{coco}/annotations/instances_val2017.json'
    metric = DET_METRICS.build(dict(cfg.val_evaluator, ann_file=ann))
    metric.dataset_meta = dataset.metainfo
    samples = []
    for idx in range(len(dataset)):
        info = dataset.get_data_info(idx)
        inst = info['instances']
        assert inst and all(i['bbox_label'] < 3 for i in inst)
        h, w = info['height'], info['width']
        polys = [[np.array(p) for p in i['mask']] for i in inst]
        masks = PolygonMasks(polys, h, w).to_ndarray()
        samples.append(dict(
            img_id=info['img_id'], ori_shape=(h, w),
            pred_instances=dict(
                bboxes=torch.tensor([i['bbox'] for i in inst]),
                scores=torch.ones(len(inst)),
                labels=torch.tensor([i['bbox_label'] for i in inst]),
                masks=torch.from_numpy(masks.astype(bool)))))
    assert len(samples) == 2 and all(
        np.asarray(s['pred_instances']['masks']).any() for s in samples)
    metric.process({}, samples)
    result = metric.compute_metrics(metric.results)
    assert result['bbox_mAP'] == pytest.approx(1.0)
    assert result['segm_mAP'] == pytest.approx(1.0)
