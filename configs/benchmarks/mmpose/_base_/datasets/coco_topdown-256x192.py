# COCO keypoints (17 joints), top-down, 256x192 crops, UDP heatmaps (48x64,
# sigma 2): the data part of mmpose 1.3.2's ViTPose COCO configs.
#
# Test-time person boxes: ground-truth boxes (bbox_file=None) so that nothing
# has to be downloaded. Upstream (and the ViTPose paper) evaluate on the
# boxes of a person detector with 56.4 AP instead; to do the same pass
#   DET=data/coco/person_detection_results/COCO_val2017_detections_AP_H_56_person.json
#   --cfg-options val_dataloader.dataset.bbox_file=$DET \
#                 test_dataloader.dataset.bbox_file=$DET
# (the file is part of mmpose's COCO data preparation).
#
# data_root is used when the config is read: with another root also set
# val_evaluator.ann_file / test_evaluator.ann_file (or edit data_root here).
_base_ = ['./_topdown_loaders.py']

data_root = 'data/coco/'
dataset_type = 'CocoDataset'
num_keypoints = 17
val_ann_file = 'annotations/person_keypoints_val2017.json'

codec = dict(
    type='UDPHeatmap', input_size=(192, 256), heatmap_size=(48, 64), sigma=2)

train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale'),
    dict(type='RandomFlip', direction='horizontal'),
    dict(type='RandomHalfBody'),
    dict(type='RandomBBoxTransform'),
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
        ann_file='annotations/person_keypoints_train2017.json',
        data_prefix=dict(img='train2017/'),
        pipeline=train_pipeline,
    ))
val_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file=val_ann_file,
        bbox_file=None,  # ground-truth person boxes (see above)
        data_prefix=dict(img='val2017/'),
        pipeline=val_pipeline,
    ))
test_dataloader = val_dataloader

# logs coco/AP, coco/AP .5, coco/AP .75, coco/AP (M), coco/AP (L), coco/AR...
val_evaluator = dict(type='CocoMetric', ann_file=data_root + val_ann_file)
test_evaluator = val_evaluator
