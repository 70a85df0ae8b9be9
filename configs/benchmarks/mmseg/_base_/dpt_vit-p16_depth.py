# Monocular depth: mmseg 1.2.2's DepthEstimator (an EncoderDecoder) on
# mmpretrain's VisionTransformer (same backbone block and export format as
# upernet_vit-p16_mln.py, img_size 480) with mmequi's DPTDepthHead (DPT,
# Ranftl et al. ICCV 2021: reassemble 4 ViT levels to strides 4-32, fuse
# coarse to fine, depth = sigmoid(.) x max_depth) and mmseg's SiLogLoss
# (Eigen et al. NeurIPS 2014, lambda 0.5; pixels with depth 0 skipped).
# A config sets the ViT arch, out_indices, widths and the checkpoint.
data_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=[123.675, 116.28, 103.53],  # ImageNet, RGB (as in pretraining)
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=0,  # padded depth = 0 = no measurement (not 255 m)
    size=(480, 480))  # pad training crops to the crop size
model = dict(
    type='DepthEstimator',
    data_preprocessor=data_preprocessor,
    backbone=dict(
        type='mmpretrain.VisionTransformer',
        arch='deit-small',
        img_size=480,  # pos_embed resized (bicubic) from 14x14 at load
        patch_size=16,
        out_indices=(3, 5, 7, 11),
        drop_path_rate=0.1,
        qkv_bias=True,
        norm_cfg=dict(type='LN', eps=1e-6),
        final_norm=True,  # every exported key is used (see the UPerNet base)
        out_type='featmap',
        with_cls_token=True,
        interpolate_mode='bicubic'),
    # a config adds backbone.init_cfg=dict(type='Pretrained', checkpoint=...)
    decode_head=dict(
        type='DPTDepthHead',
        in_channels=[384, 384, 384, 384],
        post_process_channels=[48, 96, 192, 384],
        channels=256,
        max_depth=10.0,
        align_corners=False,
        loss_decode=dict(type='SiLogLoss', loss_weight=1.0)),
    train_cfg=dict(),
    # 480x480 windows over the 480x640 test image (2 windows, stride 160),
    # each averaged with its horizontal flip, as mmseg's NYU configs. (Not
    # mode='slide': mmseg 1.2.2's DepthEstimator.inference runs
    # whole_inference after it and discards the slide result.)
    test_cfg=dict(mode='slide_flip', crop_size=(480, 480), stride=(160, 160)))
