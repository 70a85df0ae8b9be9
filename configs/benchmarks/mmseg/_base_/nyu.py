# NYU-Depth-v2 (Silberman et al. ECCV 2012), Eigen split, mmseg 1.2.2
# NYUDataset in its real layout (made by mmseg's
# tools/dataset_converters/nyu.py from the BTS/VPD nyu.zip: 24231 training
# frames of the 'sync' set, the 654 labelled test images, 640x480):
#   DATA_ROOT/images/{train,test}/*.jpg
#   DATA_ROOT/annotations/{train,test}/*.png  uint16 depth in mm, 0 = none
# LoadDepthAnnotation(depth_rescale_factor=1e-3): PNG 1000 -> 1.0 m.
# Train: flip, 480x480 random crop, photometric distortion (mmseg's nyu.py
# base has RandomDepthMix (VPD's trick) and Albu (albumentations, not
# installed); both left out). Test: the full 640x480 image.
# Evaluation: DepthMetric on depths in (1e-3, 10) m inside the Eigen crop
# (crop_type='nyu_crop': rows 45:471, cols 41:601 of the 480x640 map),
# per-image metrics averaged over the test images.
# Override the root for all three loaders:
#   --cfg-options train_dataloader.dataset.data_root=R \
#                 val_dataloader.dataset.data_root=R \
#                 test_dataloader.dataset.data_root=R
dataset_type = 'NYUDataset'
data_root = 'data/nyu'
crop_size = (480, 480)
max_depth = 10.0  # metres: the head's bound and the evaluation range
depth_meta_keys = ('img_path', 'depth_map_path', 'ori_shape', 'img_shape',
                   'pad_shape', 'scale_factor', 'flip', 'flip_direction',
                   'category_id')
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadDepthAnnotation', depth_rescale_factor=1e-3),
    dict(type='RandomFlip', prob=0.5),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs', meta_keys=depth_meta_keys)
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    # NYU frames are 640x480: this keeps them at their size
    dict(type='Resize', scale=(2000, 480), keep_ratio=True),
    # depth after Resize: metrics at the original size
    dict(type='LoadDepthAnnotation', depth_rescale_factor=1e-3),
    dict(type='PackSegInputs', meta_keys=depth_meta_keys)
]
train_dataloader = dict(
    batch_size=2,  # per GPU; 8 GPUs x 2 = 16, as the ADE20K configs
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(
            img_path='images/train', depth_map_path='annotations/train'),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        test_mode=True,
        data_prefix=dict(
            img_path='images/test', depth_map_path='annotations/test'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader

# logs d1, d2, d3, abs_rel, sq_rel, rmse (m), rmse_log, log10, silog
# (no depth_metrics argument: mmseg 1.2.2's check of it is broken,
# isinstance(x, [tuple, list]) raises TypeError)
val_evaluator = dict(
    type='DepthMetric',
    min_depth_eval=1e-3,
    max_depth_eval=max_depth,
    crop_type='nyu_crop')
test_evaluator = val_evaluator
