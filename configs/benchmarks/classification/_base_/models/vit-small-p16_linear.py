# ViT-S/16 linear probe as the DINO/iBOT linear evaluation (Zhou et al.,
# iBOT, ICLR 2022, evaluation/eval_linear.py with n_last_blocks=4): frozen
# backbone; feature = the [CLS] tokens of the last 4 blocks, each through
# the backbone's final LayerNorm, concatenated (4 x 384 = 1536 dims,
# mmequi ViTLinearFeatures); a BatchNorm without affine parameters before
# the linear layer (MAE's linear probing, He et al. CVPR 2022, mmpretrain
# ClsBatchNormNeck; iBOT's classifier is a plain nn.Linear) - it removes
# the features' scale so one lr fits every checkpoint and dataset.
#
# The backbone checkpoint is a local file the user passes (never a URL):
#   --cfg-options model.backbone.init_cfg.checkpoint=/path/to/backbone.pth
# made by tools/model_converters/extract_backbone.py (mmpretrain keys, no
# 'backbone.' prefix). Without it training stops with "... can not be
# found" instead of probing random weights.
pretrained_backbone = ('<unset: pass --cfg-options '
                       'model.backbone.init_cfg.checkpoint=/path/to/'
                       'vit-small_backbone.pth>')
feat_dim = 4 * 384
model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='ViTLinearFeatures',
        arch='deit-small',  # ViT-S/16: 384 dims, 12 blocks, 6 heads
        img_size=224,
        patch_size=16,
        out_indices=(8, 9, 10, 11),  # the last 4 blocks
        avgpool_patch_tokens=False,
        frozen_stages=12,  # all blocks, embeddings and the final norm
        init_cfg=dict(type='Pretrained', checkpoint=pretrained_backbone)),
    neck=dict(
        type='ClsBatchNormNeck', input_features=feat_dim, affine=False,
        eps=1e-6),
    head=dict(
        type='LinearClsHead',
        num_classes=1000,  # a config sets its dataset's class count
        in_channels=feat_dim,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        # DINO/iBOT LinearClassifier init: weight N(0, 0.01), bias 0
        init_cfg=dict(type='Normal', layer='Linear', std=0.01, bias=0.0)))
