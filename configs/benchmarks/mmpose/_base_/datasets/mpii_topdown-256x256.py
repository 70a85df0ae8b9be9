# MPII (16 joints), top-down, 256x256 crops (mmpose's MPII input size), UDP
# heatmaps (64x64, sigma 2) as in the ViTPose recipe (the original ViTPose
# MPII configs use UDP at 256x192; mmpose's own MPII CNN configs use
# MSRAHeatmap at 256x256 with test_cfg.shift_heatmap=True). Pipelines as
# mmpose 1.3.2 td-hm_*_mpii-256x256.py (no half-body, no box shift).
#
# Evaluation: MpiiPCKAccuracy (PCKh@0.5, logged as 'PCK', and 'PCK@0.1'),
# normalised by the head sizes in annotations/mpii_gt_val.mat (headbox_file).
# data_root is used when the config is read: with another root also set
# val_dataloader.dataset.headbox_file / test_dataloader.dataset.headbox_file.
_base_ = ['./_topdown_loaders.py']

data_root = 'data/mpii/'
dataset_type = 'MpiiDataset'
num_keypoints = 16

codec = dict(
    type='UDPHeatmap', input_size=(256, 256), heatmap_size=(64, 64), sigma=2)

train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='RandomFlip', direction='horizontal'),
    dict(type='RandomBBoxTransform', shift_prob=0),
    dict(type='TopdownAffine', input_size=codec['input_size'], use_udp=True),
    dict(type='GenerateTarget', encoder=codec),
    dict(type='PackPoseInputs')
]
val_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='TopdownAffine', input_size=codec['input_size'], use_udp=True),
    dict(type='PackPoseInputs')
]

train_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/mpii_train.json',
        data_prefix=dict(img='images/'),
        pipeline=train_pipeline,
    ))
val_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/mpii_val.json',
        headbox_file=data_root + 'annotations/mpii_gt_val.mat',
        data_prefix=dict(img='images/'),
        pipeline=val_pipeline,
    ))
test_dataloader = val_dataloader

val_evaluator = dict(type='MpiiPCKAccuracy')
test_evaluator = val_evaluator
