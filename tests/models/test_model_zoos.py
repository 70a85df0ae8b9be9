"""The four model zoos run on CPU with either mmcv op backend: mmequi's
stand-in (no compiled mmcv) or compiled mmcv (e.g. on GPU machines).

Mask R-CNN (ResNet-18 + FPN, from mmdet's own shipped config): loss,
backward and predict, with the RoIAlign / NMS kernels verifiably served by
``mmcv._ext`` (mmequi's functions when its backend is active). UPerNet on a small mmpretrain ViT with SyncBN heads, and a ViTPose-
style top-down estimator: forward, loss, predict.
"""
import os.path as osp
import sys
from collections import Counter

import pytest
import torch
from mmengine.config import Config, ConfigDict
from mmengine.registry import init_default_scope

from mmequi.compat.mmcv_ops import backend_active

def _count_ext_calls(monkeypatch) -> Counter:
    """Count calls into the active ``mmcv._ext`` kernels."""
    ext = sys.modules['mmcv._ext']
    calls: Counter = Counter()
    for name in ('nms', 'roi_align_forward', 'roi_align_backward'):
        fn = getattr(ext, name)

        def spy(*args, __fn=fn, __name=name, **kwargs):
            calls[__name] += 1
            return __fn(*args, **kwargs)

        monkeypatch.setattr(ext, name, spy)
    return calls


def _small_vit(**kwargs) -> dict:
    vit = dict(type='mmpretrain.VisionTransformer',
               arch=dict(embed_dims=96, num_layers=4, num_heads=3,
                         feedforward_channels=192),
               patch_size=16, qkv_bias=True, init_cfg=None)
    vit.update(kwargs)
    return vit


def test_mask_rcnn_r18_fpn_loss_backward_predict(monkeypatch):
    import mmdet
    from mmdet.registry import MODELS
    from mmdet.testing import demo_mm_inputs
    init_default_scope('mmdet')
    cfg = Config.fromfile(
        osp.join(osp.dirname(mmdet.__file__), '.mim', 'configs', 'mask_rcnn',
                 'mask-rcnn_r50_fpn_1x_coco.py'))
    cfg.model.backbone.update(depth=18, init_cfg=None)
    cfg.model.neck.in_channels = [64, 128, 256, 512]
    model = MODELS.build(cfg.model)
    model.init_weights()
    # the kernels are mmequi's exactly when its backend is active
    import mmequi.ops
    ext = sys.modules['mmcv._ext']
    assert backend_active() == all(
        getattr(ext, n) is mmequi.ops.EXT_FUNCTIONS[n]
        for n in ('nms', 'roi_align_forward', 'roi_align_backward'))
    calls = _count_ext_calls(monkeypatch)

    torch.manual_seed(0)
    data = demo_mm_inputs(batch_size=2, image_shapes=[(3, 128, 160)] * 2,
                          num_items=[3, 2], num_classes=80, with_mask=True)
    model.train()
    batch = model.data_preprocessor(data, True)
    losses = model(**batch, mode='loss')
    total = sum(v if isinstance(v, torch.Tensor) else sum(v)
                for k, v in losses.items() if 'loss' in k)
    assert torch.isfinite(total)
    for key in ('loss_rpn_cls', 'loss_cls', 'loss_bbox', 'loss_mask'):
        assert key in losses
    total.backward()
    grad = model.roi_head.mask_head.convs[0].conv.weight.grad
    assert grad is not None and grad.abs().sum() > 0
    assert model.backbone.layer4[0].downsample[0].weight.grad.abs().sum() > 0
    assert calls['nms'] > 0
    assert calls['roi_align_forward'] > 0
    assert calls['roi_align_backward'] > 0

    model.eval()
    with torch.no_grad():
        batch = model.data_preprocessor(data, False)
        results = model(**batch, mode='predict')
    assert len(results) == 2
    pred = results[0].pred_instances
    assert pred.bboxes.shape[1] == 4
    assert len(pred.bboxes) == len(pred.scores) == len(pred.masks)


def test_upernet_vit_syncbn_forward_loss_predict():
    from mmseg.registry import MODELS
    from mmseg.structures import SegDataSample
    from mmengine.structures import PixelData
    init_default_scope('mmseg')
    norm = dict(type='SyncBN', requires_grad=True)
    model = MODELS.build(ConfigDict(
        type='EncoderDecoder',
        data_preprocessor=dict(type='SegDataPreProcessor',
                               mean=[123.675, 116.28, 103.53],
                               std=[58.395, 57.12, 57.375], bgr_to_rgb=True,
                               pad_val=0, seg_pad_val=255, size=(64, 64)),
        backbone=_small_vit(img_size=64, out_indices=(0, 1, 2, 3),
                            out_type='featmap', final_norm=False),
        neck=dict(type='MultiLevelNeck', in_channels=[96] * 4,
                  out_channels=96, scales=[4, 2, 1, 0.5]),
        decode_head=dict(type='UPerHead', in_channels=[96] * 4,
                         in_index=[0, 1, 2, 3], pool_scales=(1, 2, 3, 6),
                         channels=64, dropout_ratio=0.1, num_classes=5,
                         norm_cfg=norm, align_corners=False,
                         loss_decode=dict(type='CrossEntropyLoss',
                                          loss_weight=1.0)),
        auxiliary_head=dict(type='FCNHead', in_channels=96, in_index=2,
                            channels=32, num_convs=1, concat_input=False,
                            dropout_ratio=0.1, num_classes=5, norm_cfg=norm,
                            align_corners=False,
                            loss_decode=dict(type='CrossEntropyLoss',
                                             loss_weight=0.4)),
        train_cfg=dict(), test_cfg=dict(mode='whole')))
    assert isinstance(model.decode_head.bottleneck.bn, torch.nn.SyncBatchNorm)
    g = torch.Generator().manual_seed(0)
    samples = []
    for _ in range(2):
        s = SegDataSample(metainfo=dict(img_shape=(64, 64),
                                        ori_shape=(64, 64)))
        s.gt_sem_seg = PixelData(
            data=torch.randint(0, 5, (1, 64, 64), generator=g))
        samples.append(s)
    data = dict(inputs=[torch.randint(0, 255, (3, 64, 64), generator=g,
                                      dtype=torch.uint8) for _ in range(2)],
                data_samples=samples)
    model.train()
    batch = model.data_preprocessor(data, True)
    losses = model(**batch, mode='loss')
    total = losses['decode.loss_ce'] + losses['aux.loss_ce']
    assert torch.isfinite(total)
    total.backward()
    assert model.backbone.patch_embed.projection.weight.grad.abs().sum() > 0
    model.eval()
    with torch.no_grad():
        out = model(**model.data_preprocessor(data, False), mode='predict')
    assert out[0].pred_sem_seg.data.shape == (1, 64, 64)
    assert int(out[0].pred_sem_seg.data.max()) < 5


def test_topdown_vit_pose_forward_loss_predict():
    from mmpose.registry import MODELS
    from mmpose.testing import get_packed_inputs
    init_default_scope('mmpose')
    codec = dict(type='UDPHeatmap', input_size=(64, 96),
                 heatmap_size=(16, 24), sigma=2)
    model = MODELS.build(dict(
        type='TopdownPoseEstimator',
        data_preprocessor=dict(type='PoseDataPreprocessor',
                               mean=[123.675, 116.28, 103.53],
                               std=[58.395, 57.12, 57.375], bgr_to_rgb=True),
        backbone=_small_vit(img_size=(96, 64), with_cls_token=False,
                            out_type='featmap', patch_cfg=dict(padding=2)),
        head=dict(type='HeatmapHead', in_channels=96, out_channels=17,
                  deconv_out_channels=(32, 32), deconv_kernel_sizes=(4, 4),
                  loss=dict(type='KeypointMSELoss', use_target_weight=True),
                  decoder=codec),
        test_cfg=dict(flip_test=True, flip_mode='heatmap',
                      shift_heatmap=False)))
    data = get_packed_inputs(batch_size=2, img_shape=(96, 64),
                             input_size=(64, 96), heatmap_size=(16, 24),
                             with_simcc_label=False, with_reg_label=False)
    model.train()
    batch = model.data_preprocessor(data, True)
    feats = model.extract_feat(batch['inputs'])
    assert feats[-1].shape == (2, 96, 6, 4)
    losses = model(**batch, mode='loss')
    assert torch.isfinite(losses['loss_kpt'])
    losses['loss_kpt'].backward()
    assert model.head.final_layer.weight.grad.abs().sum() > 0
    model.eval()
    with torch.no_grad():
        out = model(**model.data_preprocessor(data, False), mode='predict')
    kpts = out[0].pred_instances.keypoints
    assert kpts.shape == (1, 17, 2) and torch.isfinite(
        torch.as_tensor(kpts)).all()
