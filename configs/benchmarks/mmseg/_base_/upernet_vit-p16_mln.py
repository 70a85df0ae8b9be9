# UPerNet on a plain ViT/16 with a multi-level neck (mmseg 1.2.2
# configs/_base_/models/upernet_vit-b16_ln_mln.py, Xiao et al. ECCV 2018),
# with mmpretrain's VisionTransformer as the backbone so that mmequi/iBOT
# backbone exports (mmpretrain keys, no prefix) load with every key.
# A config sets the ViT arch, out_indices, widths and the checkpoint.

# SyncBN in the heads as upstream. Single process: mmengine's Runner turns
# SyncBN into BatchNorm (revert_sync_batchnorm); CPU distributed: mmequi's
# compat layer all-reduces the statistics (mmequi/compat/distributed.py).
norm_cfg = dict(type='SyncBN', requires_grad=True)
data_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=[123.675, 116.28, 103.53],  # ImageNet, RGB (as in pretraining)
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255,
    size=(512, 512))  # pad training crops to the crop size
model = dict(
    type='EncoderDecoder',
    data_preprocessor=data_preprocessor,
    backbone=dict(
        type='mmpretrain.VisionTransformer',
        arch='deit-small',
        img_size=512,  # pos_embed resized (bicubic) from 14x14 at load
        patch_size=16,
        out_indices=(3, 5, 7, 11),
        drop_path_rate=0.1,
        qkv_bias=True,
        norm_cfg=dict(type='LN', eps=1e-6),
        # keep the pretrained final LayerNorm (ln1): it is applied to the
        # last output (block 11/23) and every exported key is used
        final_norm=True,
        out_type='featmap',
        with_cls_token=True,
        interpolate_mode='bicubic'),
    # a config adds backbone.init_cfg=dict(type='Pretrained', checkpoint=...)
    neck=dict(
        type='MultiLevelNeck',
        in_channels=[384, 384, 384, 384],
        out_channels=384,
        scales=[4, 2, 1, 0.5]),  # strides 16 -> 4, 8, 16, 32
    decode_head=dict(
        type='UPerHead',
        in_channels=[384, 384, 384, 384],
        in_index=[0, 1, 2, 3],
        pool_scales=(1, 2, 3, 6),
        channels=512,  # mmseg upstream (iBOT: channels = embed dims)
        dropout_ratio=0.1,
        num_classes=150,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    auxiliary_head=dict(
        type='FCNHead',
        in_channels=384,
        in_index=3,
        channels=256,
        num_convs=1,
        concat_input=False,
        dropout_ratio=0.1,
        num_classes=150,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=0.4)),
    train_cfg=dict(),
    # sliding-window inference, as iBOT/BEiT evaluate ADE20K
    test_cfg=dict(mode='slide', crop_size=(512, 512), stride=(341, 341)))
