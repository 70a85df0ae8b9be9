# COCO 2017 instance segmentation (80 classes) with ViTDet's 1024 x 1024
# large-scale jitter (LSJ; Ghiasi et al., CVPR 2021 "Simple Copy-Paste";
# Li et al., ECCV 2022 "ViTDet"). Modelled on mmdet 3.3.0's
# configs/_base_/datasets/coco_instance.py and
# configs/common/lsj-100e_coco-instance.py.
#
# Why LSJ and not the 1x recipe's (1333, 800) resize: a plain ViT has one
# fixed-size position embedding; LSJ gives every training input the same
# 1024 x 1024 canvas (64 x 64 tokens = the backbone's img_size, so the
# pos_embed is interpolated once at load time, never per batch), the
# simple feature pyramid was designed for it, and it is ViTDet's recipe,
# the reference for Mask R-CNN on plain ViTs. Test: longest side 1024,
# keep ratio, padded to 1024 x 1024 (as ViTDet). The square padding is done
# after normalisation by the model's data_preprocessor
# (pad_size_divisor=1024, see the model config).
#
# Layout (the real one): DATA_ROOT/annotations/instances_{train,val}2017.json,
# DATA_ROOT/train2017/*.jpg, DATA_ROOT/val2017/*.jpg. Another root:
#   --cfg-options train_dataloader.dataset.data_root=R \
#       val_dataloader.dataset.data_root=R test_dataloader.dataset.data_root=R \
#       val_evaluator.ann_file=R/annotations/instances_val2017.json \
#       test_evaluator.ann_file=R/annotations/instances_val2017.json
dataset_type = 'CocoDataset'
data_root = 'data/coco/'
image_size = (1024, 1024)
backend_args = None

train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    # LSJ: rescale so that the image fits image_size x U(0.1, 2.0), then a
    # random image_size crop (smaller images stay whole)
    dict(
        type='RandomResize',
        scale=image_size,
        ratio_range=(0.1, 2.0),
        keep_ratio=True),
    dict(
        type='RandomCrop',
        crop_type='absolute_range',
        crop_size=image_size,
        recompute_bbox=True,
        allow_negative_crop=True),
    dict(type='FilterAnnotations', min_gt_bbox_wh=(1e-2, 1e-2)),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='Resize', scale=image_size, keep_ratio=True),
    # If you don't have a gt annotation, delete the pipeline
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(
        type='PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                   'scale_factor'))
]
train_dataloader = dict(
    batch_size=2,  # per GPU; 8 GPUs x 2 = 16 images (mmdet's 1x setting)
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    # no AspectRatioBatchSampler: every LSJ input is the same square canvas
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/instances_train2017.json',
        data_prefix=dict(img='train2017/'),
        filter_cfg=dict(filter_empty_gt=True, min_size=32),
        pipeline=train_pipeline,
        backend_args=backend_args))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/instances_val2017.json',
        data_prefix=dict(img='val2017/'),
        test_mode=True,
        pipeline=test_pipeline,
        backend_args=backend_args))
test_dataloader = val_dataloader

# logs coco/bbox_mAP, coco/bbox_mAP_50, _75, _s, _m, _l and the same for
# coco/segm_* (AP in [0, 1])
val_evaluator = dict(
    type='CocoMetric',
    ann_file=data_root + 'annotations/instances_val2017.json',
    metric=['bbox', 'segm'],
    format_only=False,
    backend_args=backend_args)
test_evaluator = val_evaluator
