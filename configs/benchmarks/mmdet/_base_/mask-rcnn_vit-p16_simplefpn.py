# Mask R-CNN (He et al., ICCV 2017) on a plain ViT/16 with ViTDet's simple
# feature pyramid (Li et al., ECCV 2022). Heads, anchors, assigners and
# test settings are mmdet 3.3.0's configs/_base_/models/mask-rcnn_r50_fpn.py
# unchanged; only the backbone and neck differ. ViTDet additionally puts
# LayerNorm in 4conv+1fc box / mask / 2-conv RPN heads; we keep mmdet's
# standard heads (the backbone comparison is what the benchmark measures).
# A config sets the ViT arch, widths, drop path and the checkpoint.
# The 1024 below = image_size of the data config (coco-instance_lsj-1024.py);
# a smaller test size changes backbone.img_size and
# data_preprocessor.pad_size_divisor with it.

model = dict(
    type='MaskRCNN',
    data_preprocessor=dict(
        type='DetDataPreprocessor',
        mean=[123.675, 116.28, 103.53],  # ImageNet, RGB (as in pretraining)
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_mask=True,
        # Square padding to 1024 x 1024 AFTER normalisation with 0 (as
        # ViTDet): every input is <= 1024 px on both sides after the
        # pipeline (LSJ crop / test resize), so padding to a multiple of
        # 1024 pads to exactly 1024. Unlike a pipeline `Pad`, this keeps
        # img_shape = the real image extent (mmcv's Pad overwrites it with
        # the padded shape, so test boxes would be clipped to the padding).
        pad_size_divisor=1024,
        pad_value=0),
    backbone=dict(
        type='mmpretrain.VisionTransformer',
        arch='deit-small',
        img_size=1024,  # pos_embed resized (bicubic) from 14x14 at load
        patch_size=16,
        out_indices=-1,  # the last block only (ViTDet)
        drop_path_rate=0.1,
        qkv_bias=True,
        norm_cfg=dict(type='LN', eps=1e-6),
        # keep the pretrained final LayerNorm (ln1) so every exported key
        # is used (strict loading); it normalises the last block's output
        final_norm=True,
        out_type='featmap',  # (B, C, H/16, W/16)
        with_cls_token=True,
        interpolate_mode='bicubic'),
    # a config adds backbone.init_cfg=dict(type='Pretrained', checkpoint=...)
    neck=dict(
        type='SimpleFPN',
        in_channels=384,
        out_channels=256,
        num_outs=5,  # strides 4, 8, 16, 32 + 64 (max-pool) for the RPN
        scale_factors=(4.0, 2.0, 1.0, 0.5),
        norm_cfg=dict(type='LN2d', eps=1e-6)),
    rpn_head=dict(
        type='RPNHead',
        in_channels=256,
        feat_channels=256,
        anchor_generator=dict(
            type='AnchorGenerator',
            scales=[8],
            ratios=[0.5, 1.0, 2.0],
            strides=[4, 8, 16, 32, 64]),
        bbox_coder=dict(
            type='DeltaXYWHBBoxCoder',
            target_means=[.0, .0, .0, .0],
            target_stds=[1.0, 1.0, 1.0, 1.0]),
        loss_cls=dict(
            type='CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0),
        loss_bbox=dict(type='L1Loss', loss_weight=1.0)),
    roi_head=dict(
        type='StandardRoIHead',
        bbox_roi_extractor=dict(
            type='SingleRoIExtractor',
            roi_layer=dict(type='RoIAlign', output_size=7, sampling_ratio=0),
            out_channels=256,
            featmap_strides=[4, 8, 16, 32]),
        bbox_head=dict(
            type='Shared2FCBBoxHead',
            in_channels=256,
            fc_out_channels=1024,
            roi_feat_size=7,
            num_classes=80,
            bbox_coder=dict(
                type='DeltaXYWHBBoxCoder',
                target_means=[0., 0., 0., 0.],
                target_stds=[0.1, 0.1, 0.2, 0.2]),
            reg_class_agnostic=False,
            loss_cls=dict(
                type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0),
            loss_bbox=dict(type='L1Loss', loss_weight=1.0)),
        mask_roi_extractor=dict(
            type='SingleRoIExtractor',
            roi_layer=dict(type='RoIAlign', output_size=14, sampling_ratio=0),
            out_channels=256,
            featmap_strides=[4, 8, 16, 32]),
        mask_head=dict(
            type='FCNMaskHead',
            num_convs=4,
            in_channels=256,
            conv_out_channels=256,
            num_classes=80,
            loss_mask=dict(
                type='CrossEntropyLoss', use_mask=True, loss_weight=1.0))),
    train_cfg=dict(
        rpn=dict(
            assigner=dict(
                type='MaxIoUAssigner',
                pos_iou_thr=0.7,
                neg_iou_thr=0.3,
                min_pos_iou=0.3,
                match_low_quality=True,
                ignore_iof_thr=-1),
            sampler=dict(
                type='RandomSampler',
                num=256,
                pos_fraction=0.5,
                neg_pos_ub=-1,
                add_gt_as_proposals=False),
            allowed_border=-1,
            pos_weight=-1,
            debug=False),
        rpn_proposal=dict(
            nms_pre=2000,
            max_per_img=1000,
            nms=dict(type='nms', iou_threshold=0.7),
            min_bbox_size=0),
        rcnn=dict(
            assigner=dict(
                type='MaxIoUAssigner',
                pos_iou_thr=0.5,
                neg_iou_thr=0.5,
                min_pos_iou=0.5,
                match_low_quality=True,
                ignore_iof_thr=-1),
            sampler=dict(
                type='RandomSampler',
                num=512,
                pos_fraction=0.25,
                neg_pos_ub=-1,
                add_gt_as_proposals=True),
            mask_size=28,
            pos_weight=-1,
            debug=False)),
    test_cfg=dict(
        rpn=dict(
            nms_pre=1000,
            max_per_img=1000,
            nms=dict(type='nms', iou_threshold=0.7),
            min_bbox_size=0),
        rcnn=dict(
            score_thr=0.05,
            nms=dict(type='nms', iou_threshold=0.5),
            max_per_img=100,
            mask_thr_binary=0.5)))
