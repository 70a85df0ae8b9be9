# HomographyEstimator on iBOT's ViT-S/16 (mmpretrain VisionTransformer
# 'deit-small': 384 dims, 12 layers, 6 heads, qkv bias, LN eps 1e-6).
# Each 128 px patch (gray replicated to 3 channels) is resized to 224 px,
# the backbone's pretraining resolution (14 x 14 patch tokens, pos_embed
# used as is), normalised with ImageNet mean/std; the two patches' token
# maps (B, 384, 14, 14) are concatenated along channels -> HomographyHead
# (conv3x3 768->256 BN ReLU, conv3x3/2 256->128 BN ReLU, avg-pool 4x4,
# linear 2048->8), trained with the MSE on offsets / rho (DeTone's L2 loss
# up to the factor 1/rho^2). The head widths are our choice: the paper
# (Wang et al., AAAI-26) only says "3-layer conv head".
input_size = 224
model = dict(
    type='HomographyEstimator',
    backbone=dict(
        type='VisionTransformer',
        arch='deit-small',
        img_size=input_size,
        patch_size=16,
        qkv_bias=True,
        out_type='featmap',  # (B, 384, 14, 14) patch-token map
        with_cls_token=True,  # the export's pos_embed has the cls entry
        final_norm=True,
        drop_path_rate=0.1),  # the benchmark configs set init_cfg=Pretrained
    head=dict(
        type='HomographyHead',
        in_channels=2 * 384,
        channels=(256, 128),
        strides=(1, 2),
        pool_size=4,
        num_outputs=8),
    offset_scale=32.0,  # = rho: the head predicts offsets / 32
    freeze_backbone=False,
    data_preprocessor=dict(
        type='HomographyDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        input_size=input_size,
        to_rgb=True))
