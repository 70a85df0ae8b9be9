# 3DIEBench classification (Garrido et al., ICML 2023): a linear layer on
# the frozen features of ONE render, cross-entropy, Adam 1e-3, batch 256;
# top-1 on the renders of the 10,552 held-out objects. 100 epochs over
# 5 renders per training object (a fixed subset, seed 0) is our choice
# (cached features make each epoch a pass of the linear layer only).
_base_ = ['./_base_/probe_runtime.py', './_base_/vit_small_ibot.py']

data_root = 'data/3DIEBench'
num_views = 50
img_size = 224
probe_epochs = 100
model = dict(
    num_views=1,
    tasks=dict(cls=dict(type='classification', views=(0, ),
                        target='gt_label', out_channels=55,
                        head={{_base_.linear_probe}})))
single_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(img_size, img_size), interpolation='bicubic'),
    dict(type='PackInputs', meta_keys=['img_path', 'sample_idx']),
]
train_dataloader = dict(dataset=dict(
    type='ThreeDIEBench', data_root=data_root, split='train', mode='single',
    num_views=num_views, views_per_object=5, seed=0,
    pipeline=single_pipeline))
val_dataloader = dict(dataset=dict(
    type='ThreeDIEBench', data_root=data_root, split='val', mode='single',
    num_views=num_views, views_per_object=5, seed=0,
    pipeline=single_pipeline, test_mode=True))
test_dataloader = val_dataloader
val_evaluator = dict(type='Accuracy', topk=(1, ))
test_evaluator = val_evaluator
train_cfg = dict(max_epochs=probe_epochs, val_interval=probe_epochs)
default_hooks = dict(checkpoint=dict(interval=probe_epochs))
