# ViT-L/16 linear probe as the DINO/iBOT linear evaluation of larger ViTs
# (iBOT evaluation/eval_linear.py with n_last_blocks=1 and
# avgpool_patchtokens): frozen backbone; feature = the last block's [CLS]
# token and the mean of its patch tokens, both after the final LayerNorm,
# concatenated (2 x 1024 = 2048 dims); BatchNorm without affine before the
# linear layer (MAE linear probing). Checkpoint: a local file, see
# vit-small-p16_linear.py.
pretrained_backbone = ('<unset: pass --cfg-options '
                       'model.backbone.init_cfg.checkpoint=/path/to/'
                       'vit-large_backbone.pth>')
feat_dim = 2 * 1024
model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='ViTLinearFeatures',
        arch='large',  # ViT-L/16: 1024 dims, 24 blocks, 16 heads
        img_size=224,
        patch_size=16,
        out_indices=(23, ),
        avgpool_patch_tokens=True,
        frozen_stages=24,
        init_cfg=dict(type='Pretrained', checkpoint=pretrained_backbone)),
    neck=dict(
        type='ClsBatchNormNeck', input_features=feat_dim, affine=False,
        eps=1e-6),
    head=dict(
        type='LinearClsHead',
        num_classes=1000,
        in_channels=feat_dim,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        init_cfg=dict(type='Normal', layer='Linear', std=0.01, bias=0.0)))
