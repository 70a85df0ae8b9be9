# The SIE model of sie_resnet18_8xb128-2000e_3diebench.py (unchanged:
# ResNet-18, 256/256 split, 1024-d projectors, hypernetwork predictor) on
# the procedural toy 3DIEBench (64 px renders, 10 views per object):
#   python tools/dataset_converters/make_toy_3diebench.py \
#       --out data/toy_3diebench
#   python tools/train.py \
#       configs/sie/sie_resnet18_1xb64-5e_toy-3diebench-64px.py
# 320 training objects / batch 64 = 5 iterations per epoch; 5 epochs take a
# few minutes on 2 CPU cores. Adam lr 1e-3 is kept at batch 64 (our choice).
_base_ = ['./sie_resnet18_8xb128-2000e_3diebench.py']

data_root = 'data/toy_3diebench'
img_size = 64
num_views = 10  # make_toy_3diebench.py --views (default 10)
train_pipeline = [
    dict(type='LoadViews'),
    dict(type='ApplyToViews',
         transforms=[dict(type='Resize', scale=(img_size, img_size))]),
    dict(type='PackInputs', algorithm_keys=['rot_quat', 'color_diff'],
         meta_keys=['img_path', 'view_ids', 'object_path']),
]
train_dataloader = dict(
    batch_size=64,
    num_workers=2,
    persistent_workers=False,
    pin_memory=False,
    dataset=dict(data_root=data_root, num_views=num_views,
                 pipeline=train_pipeline))

max_epochs = 5
train_cfg = dict(max_epochs=max_epochs)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=1),
    checkpoint=dict(type='CheckpointHook', interval=5, max_keep_ckpts=1))
