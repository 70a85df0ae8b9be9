# ViTPose "classic decoder" (Xu et al., NeurIPS 2022) with mmpretrain's ViT-S/16
# (iBOT ViT-S: arch 'deit-small' = 384 dims, 12 blocks, 6 heads; mmpose's
# upstream ViTPose-small uses 12 heads, which iBOT/DeiT ViT-S do not have).
# Backbone settings as upstream: patch 16 with padding 2, no cls token,
# output = the patch grid as a feature map (H/16 x W/16), drop path 0.1.
#
# The checkpoint must have pos_embed WITHOUT the cls entry and no cls_token
# (tools/model_converters/extract_backbone.py ... --drop-cls-token):
# mmpretrain's loader fails an assertion on (1, 1 + 14*14, C) for a
# with_cls_token=False model at 256x192; (1, 196, C) is resized 14x14 -> 16x12
# (16x16 for MPII 256x256) by the backbone's load hook. A config (or the
# user) sets init_cfg.checkpoint; the dataset part sets img_size,
# out_channels and the head's decoder (the codec).
model = dict(
    type='TopdownPoseEstimator',
    data_preprocessor=dict(
        type='PoseDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True),
    backbone=dict(
        type='mmpretrain.VisionTransformer',
        arch='deit-small',
        img_size=(256, 192),
        patch_size=16,
        qkv_bias=True,
        drop_path_rate=0.1,
        with_cls_token=False,
        out_type='featmap',
        patch_cfg=dict(padding=2)),  # + init_cfg, set by a config
    head=dict(
        type='HeatmapHead',
        in_channels=384,
        out_channels=17,
        deconv_out_channels=(256, 256),
        deconv_kernel_sizes=(4, 4),
        loss=dict(type='KeypointMSELoss', use_target_weight=True)),
    # + head.decoder (the codec), set by a config
    test_cfg=dict(
        flip_test=True,
        flip_mode='heatmap',
        shift_heatmap=False,  # UDP codec: no shift (upstream ViTPose)
    ))
