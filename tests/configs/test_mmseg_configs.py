"""ADE20K UPerNet transfer configs (configs/benchmarks/mmseg): they load,
build the right ViT, name the layer-decay constructor, run the 12-epoch
schedule; every mmseg config (the NYU depth ones too) carries no URL and
refuses to train without a backbone checkpoint."""
import glob
import math
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS

from tests.conftest import REPO, assert_no_url

CFG_DIR = osp.join(REPO, 'configs', 'benchmarks', 'mmseg')
S = osp.join(CFG_DIR, 'upernet_vit-small-p16_8xb2-12e_ade20k-512x512.py')
L = osp.join(CFG_DIR, 'upernet_vit-large-p16_8xb2-12e_ade20k-512x512.py')
# (config, embed dims, blocks, heads, out_indices, layer decay num_layers)
ARCHS = [(S, 384, 12, 6, (3, 5, 7, 11)), (L, 1024, 24, 16, (7, 11, 15, 23))]


def build_checked_vit_model(cfg: Config, dims: int, depth: int, heads: int,
                            out_indices: tuple, img_size: int):
    """Check what every mmseg benchmark config shares (scope, mmequi
    import, mmpretrain's ViT with a required checkpoint, featmap outputs)
    and build its model on the meta device (shapes only; ViT-L ~300M
    parameters); the ViT has the given width/depth/heads and a grid of
    img_size / 16."""
    assert cfg.default_scope == 'mmseg'
    assert cfg.custom_imports == dict(imports=['mmequi'],
                                      allow_failed_imports=False)
    bb = cfg.model.backbone
    assert bb.type == 'mmpretrain.VisionTransformer'
    assert tuple(bb.out_indices) == out_indices
    assert bb.img_size == img_size and bb.patch_size == 16
    assert bb.out_type == 'featmap' and bb.final_norm is True
    assert bb.init_cfg.type == 'Pretrained'
    init_default_scope('mmseg')
    with torch.device('meta'):
        model = MODELS.build(cfg.model)
    vit = model.backbone
    assert type(vit).__module__.startswith('mmpretrain.')
    assert (vit.embed_dims, vit.num_layers,
            vit.layers[0].attn.num_heads) == (dims, depth, heads)
    assert vit.patch_resolution == (img_size // 16, img_size // 16)
    return model


@pytest.mark.parametrize('path,dims,depth,heads,out_indices', ARCHS)
def test_config_builds_the_vit(path, dims, depth, heads, out_indices):
    cfg = Config.fromfile(path)
    assert cfg.default_scope == 'mmseg'
    model = build_checked_vit_model(cfg, dims, depth, heads, out_indices,
                                    img_size=512)
    assert cfg.model.neck.in_channels == [dims] * 4
    assert cfg.model.neck.out_channels == dims
    assert list(cfg.model.neck.scales) == [4, 2, 1, 0.5]
    assert cfg.model.decode_head.in_channels == [dims] * 4
    assert cfg.model.auxiliary_head.in_channels == dims
    assert model.decode_head.num_classes == 150
    assert model.auxiliary_head.num_classes == 150
    assert model.decode_head.conv_seg.out_channels == 150
    assert cfg.model.decode_head.norm_cfg.type == 'SyncBN'
    assert dict(cfg.model.test_cfg) == dict(
        mode='slide', crop_size=(512, 512), stride=(341, 341))
    ow = cfg.optim_wrapper
    assert ow.constructor == 'ViTLayerDecayOptimWrapperConstructor'
    assert ow.optimizer.type == 'AdamW'
    assert ow.paramwise_cfg.num_layers == depth
    assert 0 < ow.paramwise_cfg.layer_decay_rate < 1


@pytest.mark.parametrize('path', [S, L])
def test_schedule_is_12_ade20k_epochs_at_16_images(path):
    cfg = Config.fromfile(path)
    per_gpu = cfg.train_dataloader.batch_size
    assert per_gpu * 8 == 16  # 8xb2
    max_iters = 12 * math.ceil(20210 / 16)
    assert max_iters == 15168
    assert cfg.train_cfg.type == 'IterBasedTrainLoop'
    assert cfg.train_cfg.max_iters == max_iters
    assert max_iters % cfg.train_cfg.val_interval == 0
    warm, poly = cfg.param_scheduler
    assert (warm.type, warm.begin, warm.end) == ('LinearLR', 0, 1500)
    assert (poly.type, poly.begin, poly.end) == ('PolyLR', 1500, max_iters)
    assert poly.eta_min == 0 and poly.power == 1.0
    ds = cfg.train_dataloader.dataset
    assert ds.type == 'ADE20KDataset'
    assert dict(ds.data_prefix) == dict(img_path='images/training',
                                        seg_map_path='annotations/training')
    assert cfg.val_evaluator == dict(type='IoUMetric', iou_metrics=['mIoU'])
    for pipe in (ds.pipeline, cfg.test_dataloader.dataset.pipeline):
        ann = [t for t in pipe if t.type == 'LoadAnnotations']
        assert ann and ann[0].reduce_zero_label is True


#: every mmseg benchmark config (ADE20K UPerNet and NYU-Depth-v2 depth)
ALL = sorted(glob.glob(osp.join(CFG_DIR, '*.py')))
DEPTH_S = osp.join(CFG_DIR, 'depth_vit-small-p16_8xb2-12e_nyu-480x480.py')


def test_every_config_is_covered():
    assert S in ALL and L in ALL and DEPTH_S in ALL and len(ALL) == 4


@pytest.mark.parametrize('path', ALL, ids=osp.basename)
def test_no_url_anywhere(path):
    assert_no_url(Config.fromfile(path), CFG_DIR)


def test_layer_decay_groups_of_the_vit_small_config():
    """lr of block i = lr * rate ** (12 + 1 - (i + 1)); heads get lr."""
    from mmengine.optim import build_optim_wrapper
    cfg = Config.fromfile(S)
    init_default_scope('mmseg')
    model = MODELS.build(cfg.model)
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    lr = cfg.optim_wrapper.optimizer.lr
    rate = cfg.optim_wrapper.paramwise_cfg.layer_decay_rate
    by_param = {}
    for group in wrapper.optimizer.param_groups:
        for p in group['params']:
            by_param[id(p)] = group
    named = dict(model.named_parameters())
    checks = {
        'backbone.pos_embed': (lr * rate ** 13, 0.0),
        'backbone.patch_embed.projection.weight': (lr * rate ** 13, 0.05),
        'backbone.layers.0.attn.qkv.weight': (lr * rate ** 12, 0.05),
        'backbone.layers.0.ln1.weight': (lr * rate ** 12, 0.0),
        'backbone.layers.11.ffn.layers.1.weight': (lr * rate ** 1, 0.05),
        'backbone.ln1.weight': (lr, 0.0),
        'decode_head.conv_seg.weight': (lr, 0.05),
        'neck.convs.0.conv.weight': (lr, 0.05),
    }
    for name, (want_lr, want_wd) in checks.items():
        group = by_param[id(named[name])]
        assert math.isclose(group['lr'], want_lr, rel_tol=1e-9), name
        assert group['weight_decay'] == want_wd, name
    assert len(by_param) == sum(p.requires_grad for p in named.values())


@pytest.mark.parametrize('path', [S, DEPTH_S], ids=osp.basename)
def test_missing_checkpoint_is_an_error_not_random_init(path):
    cfg = Config.fromfile(path)
    init_default_scope('mmseg')
    model = MODELS.build(cfg.model)
    with pytest.raises(FileNotFoundError,
                       match='model.backbone.init_cfg.checkpoint'):
        model.init_weights()
