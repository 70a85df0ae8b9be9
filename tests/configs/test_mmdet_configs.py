"""COCO Mask R-CNN transfer configs (configs/benchmarks/mmdet): they load,
build the right ViT + SimpleFPN, use the 1x schedule (12 epochs, steps at 8
and 11) with AdamW + layer decay, LSJ 1024 input, COCO bbox+segm metrics,
carry no URL, and refuse to train without a backbone checkpoint."""
import math
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from tests.conftest import REPO, assert_no_url

CFG_DIR = osp.join(REPO, 'configs', 'benchmarks', 'mmdet')
S = osp.join(CFG_DIR, 'mask-rcnn_vit-small-p16_simplefpn_8xb2-1x_coco.py')
L = osp.join(CFG_DIR, 'mask-rcnn_vit-large-p16_simplefpn_8xb2-1x_coco.py')
# (config, embed dims, blocks, heads, drop path, layer decay rate)
ARCHS = [(S, 384, 12, 6, 0.1, 0.7), (L, 1024, 24, 16, 0.4, 0.8)]


def _build(cfg, device='cpu'):
    from mmdet.registry import MODELS
    init_default_scope('mmdet')
    with torch.device(device):
        return MODELS.build(cfg.model)


@pytest.mark.parametrize('path,dims,depth,heads,drop_path,decay', ARCHS)
def test_config_builds_vit_simplefpn_mask_rcnn(path, dims, depth, heads,
                                              drop_path, decay):
    from mmequi.models import SimpleFPN
    from mmpretrain.models import VisionTransformer
    cfg = Config.fromfile(path)
    assert cfg.default_scope == 'mmdet'
    assert cfg.custom_imports == dict(imports=['mmequi'],
                                      allow_failed_imports=False)
    bb = cfg.model.backbone
    assert bb.type == 'mmpretrain.VisionTransformer'
    assert bb.out_type == 'featmap' and bb.out_indices == -1
    assert bb.img_size == 1024 and bb.patch_size == 16
    assert bb.drop_path_rate == drop_path
    assert bb.final_norm is True and bb.with_cls_token is True
    assert bb.init_cfg.type == 'Pretrained'
    assert cfg.model.neck.type == 'SimpleFPN'
    assert cfg.model.neck.in_channels == dims
    assert cfg.model.neck.norm_cfg.type == 'LN2d'
    # ViT-L: meta device (shapes only, ~300M parameters)
    model = _build(cfg, 'meta' if path == L else 'cpu')
    vit, neck = model.backbone, model.neck
    assert type(vit) is VisionTransformer and type(neck) is SimpleFPN
    assert (vit.embed_dims, vit.num_layers,
            vit.layers[0].attn.num_heads) == (dims, depth, heads)
    assert vit.patch_resolution == (64, 64)  # 1024 / 16
    assert vit.out_indices == [depth - 1]
    # pyramid strides = anchor strides; RoI extractors use 4..32
    assert neck.strides == (4, 8, 16, 32, 64)
    assert list(cfg.model.rpn_head.anchor_generator.strides) == list(
        neck.strides)
    for ext in ('bbox_roi_extractor', 'mask_roi_extractor'):
        assert list(cfg.model.roi_head[ext].featmap_strides) == list(
            neck.strides[:4])
    assert model.roi_head.bbox_head.num_classes == 80
    assert model.roi_head.mask_head.num_classes == 80
    # square padding to 1024 in the data preprocessor (see model config)
    assert cfg.model.data_preprocessor.pad_size_divisor == 1024
    assert cfg.image_size == (1024, 1024)
    ow = cfg.optim_wrapper
    assert ow.constructor == 'ViTLayerDecayOptimWrapperConstructor'
    assert ow.optimizer.type == 'AdamW'
    assert ow.optimizer.lr == 1e-4 and ow.optimizer.weight_decay == 0.1
    assert ow.paramwise_cfg == dict(layer_decay_rate=decay,
                                    num_layers=depth)


@pytest.mark.parametrize('path', [S, L])
def test_1x_schedule_lsj_data_and_coco_metric(path):
    cfg = Config.fromfile(path)
    assert cfg.train_dataloader.batch_size * 8 == 16  # 8xb2
    assert cfg.train_cfg.type == 'EpochBasedTrainLoop'
    assert cfg.train_cfg.max_epochs == 12
    assert 12 % cfg.train_cfg.val_interval == 0
    warm, step = cfg.param_scheduler
    assert (warm.type, warm.by_epoch, warm.end) == ('LinearLR', False, 250)
    assert step.type == 'MultiStepLR' and step.by_epoch
    assert list(step.milestones) == [8, 11] and step.gamma == 0.1
    assert step.end == cfg.train_cfg.max_epochs
    train = cfg.train_dataloader.dataset
    assert train.type == 'CocoDataset'
    assert train.ann_file == 'annotations/instances_train2017.json'
    assert dict(train.data_prefix) == dict(img='train2017/')
    types = [t.type for t in train.pipeline]
    assert types == ['LoadImageFromFile', 'LoadAnnotations', 'RandomResize',
                     'RandomCrop', 'FilterAnnotations', 'RandomFlip',
                     'PackDetInputs']
    rr, crop = train.pipeline[2], train.pipeline[3]
    assert rr.scale == (1024, 1024) and rr.ratio_range == (0.1, 2.0)
    assert crop.crop_size == (1024, 1024) and crop.allow_negative_crop
    assert train.pipeline[1].with_mask is True
    for loader in (cfg.val_dataloader, cfg.test_dataloader):
        ds = loader.dataset
        assert ds.ann_file == 'annotations/instances_val2017.json'
        assert dict(ds.data_prefix) == dict(img='val2017/')
        resize = [t for t in ds.pipeline if t.type == 'Resize']
        assert resize[0].scale == (1024, 1024) and resize[0].keep_ratio
    for ev in (cfg.val_evaluator, cfg.test_evaluator):
        assert ev.type == 'CocoMetric'
        assert list(ev.metric) == ['bbox', 'segm']
        assert ev.ann_file.endswith('annotations/instances_val2017.json')


@pytest.mark.parametrize('path', [S, L])
def test_no_url_anywhere(path):
    assert_no_url(Config.fromfile(path), CFG_DIR)


def test_layer_decay_groups_of_the_vit_small_config():
    """lr of block i = lr * 0.7 ** (12 - i); embeddings 0.7 ** 13; final
    norm, SimpleFPN and the Mask R-CNN heads get the full lr."""
    from mmengine.optim import build_optim_wrapper
    cfg = Config.fromfile(S)
    model = _build(cfg)
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    lr, rate, wd = 1e-4, 0.7, 0.1
    by_param = {id(p): g for g in wrapper.optimizer.param_groups
                for p in g['params']}
    named = dict(model.named_parameters())
    checks = {
        'backbone.pos_embed': (lr * rate**13, 0.0),
        'backbone.cls_token': (lr * rate**13, 0.0),
        'backbone.patch_embed.projection.weight': (lr * rate**13, wd),
        'backbone.layers.0.attn.qkv.weight': (lr * rate**12, wd),
        'backbone.layers.0.attn.qkv.bias': (lr * rate**12, 0.0),
        'backbone.layers.11.ffn.layers.1.weight': (lr * rate, wd),
        'backbone.ln1.weight': (lr, 0.0),
        'neck.stages.0.0.weight': (lr, wd),
        'neck.stages.0.1.weight': (lr, 0.0),  # LN2d
        'neck.lateral_convs.0.conv.weight': (lr, wd),
        'rpn_head.rpn_conv.weight': (lr, wd),
        'roi_head.bbox_head.fc_cls.weight': (lr, wd),
        'roi_head.mask_head.conv_logits.weight': (lr, wd),
    }
    for name, (want_lr, want_wd) in checks.items():
        group = by_param[id(named[name])]
        assert math.isclose(group['lr'], want_lr, rel_tol=1e-9), name
        assert group['weight_decay'] == want_wd, name
    assert len(by_param) == sum(p.requires_grad for p in named.values())


def test_missing_checkpoint_is_an_error_not_random_init():
    cfg = Config.fromfile(S)
    model = _build(cfg)
    with pytest.raises(FileNotFoundError,
                       match='model.backbone.init_cfg.checkpoint'):
        model.init_weights()
