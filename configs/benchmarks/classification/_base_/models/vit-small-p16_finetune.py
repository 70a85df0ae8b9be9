# ViT-S/16 end-to-end fine-tuning, the mmpretrain MAE/BEiT ViT recipe
# (mmpretrain 1.2.0 configs/mae/benchmarks/vit-base-p16_8xb128-coslr-100e_
# in1k.py and _base_/datasets/imagenet_bs64_swin_224.py; He et al., MAE,
# CVPR 2022, Table 11): drop path 0.1, label smoothing 0.1, Mixup 0.8 +
# CutMix 1.0 (one of them per batch), RandAugment rand-m9-mstd0.5-inc1
# (timm_increasing, 2 ops), RandomErasing p=0.25, bicubic
# RandomResizedCrop 224 + flip; head init trunc-normal std 2e-5.
# Deviation: the classifier reads the [CLS] token after the pretrained final
# norm (DeiT style) instead of MAE's mean-pooled patch tokens with a new
# norm, so every pretrained weight is used (strict key match). For mean
# pooling set model.backbone.out_type='avg_featmap' and final_norm=False.
# Checkpoint: a local file (never a URL):
#   --cfg-options model.backbone.init_cfg.checkpoint=/path/to/backbone.pth
pretrained_backbone = ('<unset: pass --cfg-options '
                       'model.backbone.init_cfg.checkpoint=/path/to/'
                       'vit-small_backbone.pth>')
model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='VisionTransformer',
        arch='deit-small',  # ViT-S/16: 384 dims, 12 blocks, 6 heads
        img_size=224,
        patch_size=16,
        drop_path_rate=0.1,
        out_type='cls_token',
        final_norm=True,
        init_cfg=dict(type='Pretrained', checkpoint=pretrained_backbone)),
    neck=None,
    head=dict(
        type='LinearClsHead',
        num_classes=1000,  # a config sets its dataset's class count
        in_channels=384,
        loss=dict(
            type='LabelSmoothLoss', label_smooth_val=0.1, mode='original'),
        init_cfg=[dict(type='TruncNormal', layer='Linear', std=2e-5)]),
    train_cfg=dict(augments=[
        dict(type='Mixup', alpha=0.8),
        dict(type='CutMix', alpha=1.0)
    ]))

# Training pipelines (test pipelines: the dataset base configs).
# Decoded image files are BGR: pad / fill values in BGR order.
ft_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=224, backend='pillow',
         interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(
        type='RandAugment',
        policies='timm_increasing',
        num_policies=2,
        total_level=10,
        magnitude_level=9,
        magnitude_std=0.5,
        hparams=dict(pad_val=[104, 116, 124], interpolation='bicubic')),
    dict(
        type='RandomErasing',
        erase_prob=0.25,
        mode='rand',
        min_area_ratio=0.02,
        max_area_ratio=1 / 3,
        fill_color=[103.53, 116.28, 123.675],
        fill_std=[57.375, 57.12, 58.395]),
    dict(type='PackInputs'),
]
# CIFAR: in-memory RGB 32x32 arrays (no file loading), upsampled to 224;
# pad / fill values in RGB order.
# (ft_train_pipeline without LoadImageFromFile, the pad / fill values of
# RandAugment and RandomErasing reversed)
ft_train_pipeline_cifar = ft_train_pipeline[1:3] + [
    dict(ft_train_pipeline[3],  # RandAugment
         hparams=dict(pad_val=[124, 116, 104], interpolation='bicubic')),
    dict(ft_train_pipeline[4],  # RandomErasing
         fill_color=[123.675, 116.28, 103.53],
         fill_std=[58.395, 57.12, 57.375]),
    dict(type='PackInputs'),
]
