"""The keypoint transfer configs (configs/benchmarks/mmpose): ViTPose with
mmpretrain's ViT-S/16 (6 heads) or ViT-L/16, 12 epochs, COCO (17 joints,
coco/AP) and MPII (16 joints, PCKh), no URL anywhere, and the layer-wise lr
decay groups the optimizer really gets (training: tests/tools/
test_mmpose_transfer.py)."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from tests.conftest import REPO, assert_no_url

CFG_DIR = osp.join(REPO, 'configs', 'benchmarks', 'mmpose')
# name -> (embed dims, blocks, heads, drop path, joints, img_size (h, w),
#          metric, evaluator)
EXPECTED = {
    'td-hm_vit-small-p16_8xb64-12e_coco-256x192.py':
        (384, 12, 6, 0.1, 17, (256, 192), 'coco/AP', 'CocoMetric'),
    'td-hm_vit-large-p16_8xb64-12e_coco-256x192.py':
        (1024, 24, 16, 0.5, 17, (256, 192), 'coco/AP', 'CocoMetric'),
    'td-hm_vit-small-p16_8xb64-12e_mpii-256x256.py':
        (384, 12, 6, 0.1, 16, (256, 256), 'PCK', 'MpiiPCKAccuracy'),
    'td-hm_vit-large-p16_8xb64-12e_mpii-256x256.py':
        (1024, 24, 16, 0.5, 16, (256, 256), 'PCK', 'MpiiPCKAccuracy'),
}
NAMES = sorted(EXPECTED)


def _load(name: str) -> Config:
    return Config.fromfile(osp.join(CFG_DIR, name))


def _build(cfg_dict: dict, device: str = 'cpu'):
    init_default_scope('mmpose')
    from mmpose.registry import MODELS
    with torch.device(device):
        return MODELS.build(cfg_dict)


def test_every_config_is_listed():
    found = sorted(osp.basename(p) for p in glob.glob(osp.join(CFG_DIR,
                                                               '*.py')))
    assert found == NAMES


@pytest.mark.parametrize('name', NAMES)
def test_config_fields(name):
    dims, _, _, drop_path, joints, img_size, metric, evaluator = \
        EXPECTED[name]
    cfg = _load(name)
    assert cfg.default_scope == 'mmpose'
    assert cfg.custom_imports == dict(imports=['mmequi'],
                                      allow_failed_imports=False)
    bb = cfg.model.backbone
    assert bb.type == 'mmpretrain.VisionTransformer'
    assert bb.arch == ('deit-small' if dims == 384 else 'large')
    assert bb.img_size == img_size and bb.patch_size == 16
    assert bb.with_cls_token is False and bb.out_type == 'featmap'
    assert bb.patch_cfg == dict(padding=2) and bb.qkv_bias is True
    assert bb.drop_path_rate == drop_path
    # a local file the user passes; no silent random init
    assert bb.init_cfg.type == 'Pretrained'
    assert bb.init_cfg.checkpoint.startswith('<unset')

    head = cfg.model.head
    assert head.type == 'HeatmapHead' and head.in_channels == dims
    assert head.out_channels == joints
    assert head.deconv_out_channels == (256, 256)
    codec = head.decoder
    assert codec.type == 'UDPHeatmap'
    # codec sizes are (w, h); the backbone's img_size is (h, w)
    assert tuple(codec.input_size) == img_size[::-1]
    assert tuple(codec.heatmap_size) == (img_size[1] // 4, img_size[0] // 4)
    assert cfg.model.test_cfg.flip_test is True

    train_pipe = cfg.train_dataloader.dataset.pipeline
    affine = [t for t in train_pipe if t.type == 'TopdownAffine']
    target = [t for t in train_pipe if t.type == 'GenerateTarget']
    assert affine[0].input_size == codec.input_size and affine[0].use_udp
    assert target[0].encoder == codec
    for loader in (cfg.val_dataloader, cfg.test_dataloader):
        val_affine = [t for t in loader.dataset.pipeline
                      if t.type == 'TopdownAffine']
        assert val_affine[0].input_size == codec.input_size
        assert loader.dataset.test_mode is True
        if evaluator == 'CocoMetric':
            # ground-truth person boxes: no detection file to download
            assert loader.dataset.bbox_file is None
        else:
            assert loader.dataset.headbox_file.endswith('mpii_gt_val.mat')
    assert cfg.val_evaluator.type == evaluator
    assert cfg.test_evaluator.type == evaluator
    assert cfg.default_hooks.checkpoint.save_best == metric

    # 12 epochs, steps scaled from upstream's 170/200 of 210
    assert cfg.train_cfg.max_epochs == 12
    step = cfg.param_scheduler[-1]
    assert step.type == 'MultiStepLR' and step.end == 12
    assert step.milestones == [10, 11]
    assert cfg.param_scheduler[0].type == 'LinearLR'

    ow = cfg.optim_wrapper
    assert ow.constructor == 'ViTLayerDecayOptimWrapperConstructor'
    assert ow.optimizer.type == 'AdamW' and ow.optimizer.lr == 5e-4
    assert ow.optimizer.weight_decay == 0.1
    assert ow.paramwise_cfg.layer_decay_rate == 0.8
    assert ow.paramwise_cfg.num_layers == EXPECTED[name][1]
    # lr 5e-4 is for 8 GPUs x 64
    assert cfg.train_dataloader.batch_size * 8 == 512
    assert cfg.auto_scale_lr.base_batch_size == 512


@pytest.mark.parametrize('name', NAMES)
def test_no_url(name):
    """Neither the config nor any file it inherits names a URL."""
    assert_no_url(_load(name), CFG_DIR)


@pytest.mark.parametrize('name', NAMES)
def test_backbone_heads(name):
    """6 heads for ViT-S (iBOT), 16 for ViT-L; no cls token; the grid."""
    dims, blocks, heads, _, _, img_size, _, _ = EXPECTED[name]
    cfg = _load(name)
    device = 'meta' if dims == 1024 else 'cpu'  # ViT-L: shapes only
    backbone = _build(cfg.model.backbone, device)
    assert len(backbone.layers) == blocks
    assert all(layer.attn.num_heads == heads for layer in backbone.layers)
    assert backbone.embed_dims == dims
    assert backbone.cls_token is None
    grid = (img_size[0] // 16, img_size[1] // 16)
    assert backbone.patch_embed.init_out_size == grid
    assert tuple(backbone.pos_embed.shape) == (1, grid[0] * grid[1], dims)


def test_small_forward_shapes():
    """ViT-S on a 256x192 crop: 384 x 16 x 12 features, 17 heatmaps of
    64 x 48 (deconv x4)."""
    cfg = _load('td-hm_vit-small-p16_8xb64-12e_coco-256x192.py')
    model = _build(cfg.model).eval()
    with torch.no_grad():
        feats = model.extract_feat(torch.randn(1, 3, 256, 192))
        heatmaps = model.head.forward(feats)
    assert tuple(feats[0].shape) == (1, 384, 16, 12)
    assert tuple(heatmaps.shape) == (1, 17, 64, 48)


def test_layer_decay_groups():
    """The optimizer built from the config (mmpose scope): lr x 0.8 **
    (13 - depth); no weight decay for biases, norms, pos_embed."""
    from mmengine.optim import build_optim_wrapper
    cfg = _load('td-hm_vit-small-p16_8xb64-12e_coco-256x192.py')
    model = _build(cfg.model)
    init_default_scope('mmpose')
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    lr_of, wd_of = {}, {}
    for group in wrapper.optimizer.param_groups:
        for p in group['params']:
            lr_of[id(p)], wd_of[id(p)] = group['lr'], group['weight_decay']
    params = dict(model.named_parameters())
    assert len(lr_of) == len(params)  # every parameter is optimised

    def lr(name):
        return lr_of[id(params[name])]

    def wd(name):
        return wd_of[id(params[name])]

    base = 5e-4
    assert lr('backbone.patch_embed.projection.weight') == \
        pytest.approx(base * 0.8 ** 13)
    assert lr('backbone.pos_embed') == pytest.approx(base * 0.8 ** 13)
    assert lr('backbone.layers.0.attn.qkv.weight') == \
        pytest.approx(base * 0.8 ** 12)
    assert lr('backbone.layers.11.ffn.layers.1.weight') == \
        pytest.approx(base * 0.8)
    assert lr('backbone.ln1.weight') == pytest.approx(base)
    assert lr('head.final_layer.weight') == pytest.approx(base)
    assert wd('backbone.layers.3.attn.qkv.weight') == 0.1
    assert wd('head.final_layer.weight') == 0.1
    for name in ('backbone.pos_embed', 'backbone.layers.3.attn.qkv.bias',
                 'backbone.layers.3.ln1.weight', 'backbone.ln1.bias',
                 'head.deconv_layers.1.weight', 'head.final_layer.bias'):
        assert wd(name) == 0.0, name


def test_unset_checkpoint_fails_loudly():
    """Without --cfg-options model.backbone.init_cfg.checkpoint=... the
    backbone does not silently start from random weights."""
    cfg = _load('td-hm_vit-small-p16_8xb64-12e_coco-256x192.py')
    backbone = _build(cfg.model.backbone)
    with pytest.raises(FileNotFoundError, match='unset'):
        backbone.init_weights()
