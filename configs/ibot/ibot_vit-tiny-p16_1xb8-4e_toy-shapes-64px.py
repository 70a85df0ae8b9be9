# A tiny iBOT for tests and smoke runs: a 2-layer ViT on the generated
# toy-shapes images (64 px globals, 32 px locals), fp32, a few seconds per
# epoch on a CPU. Same code path as the ImageNet configs.
#   python tools/dataset_converters/make_toy_shapes.py --out data/toy_shapes_64 --size 64
#   python tools/train.py configs/ibot/ibot_vit-tiny-p16_1xb8-4e_toy-shapes-64px.py
_base_ = ['./ibot_vit-small-p16_8xb128-amp-coslr-800e_in1k.py']

num_local = 2
model = dict(
    backbone=dict(
        arch=dict(_delete_=True, embed_dims=64, num_layers=2, num_heads=2,
                  feedforward_channels=128),
        img_size=64),
    neck=dict(in_channels=64, hidden_channels=128, bottleneck_channels=32,
              out_channels=256),
    loss=dict(out_dim=256, patch_out_dim=256, num_local=num_local))

data_root = 'data/toy_shapes_64'
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='iBOTMultiCrop', global_size=64, local_size=32,
         num_local=num_local, global_scale=(0.25, 1.0),
         local_scale=(0.05, 0.25)),
    dict(type='iBOTBlockMaskGenerator', patch_size=16, num_global=2),
    dict(type='PackInputs', algorithm_keys=['crop_params'],
         meta_keys=['img_path']),
]
train_dataloader = dict(
    batch_size=8,
    num_workers=0,
    pin_memory=False,
    dataset=dict(
        _delete_=True,
        type='CustomDataset',
        data_root=data_root,
        data_prefix='train',
        with_label=False,
        pipeline=train_pipeline))

max_epochs = 4
warmup_epochs = 1
optim_wrapper = dict(type='SSLOptimWrapper', _delete_=True,
                     optimizer=dict(type='AdamW', lr=5e-4,
                                    betas=(0.9, 0.999), weight_decay=0.04),
                     clip_grad=dict(type='per_param', max_norm=3.0),
                     constructor='SSLOptimWrapperConstructor',
                     paramwise_cfg=dict(
                         no_decay_1d=True,
                         no_decay_keys=('pos_embed', 'cls_token',
                                        'mask_token'),
                         freeze={'neck.last_layer': 1}))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-9, by_epoch=True, begin=0,
         end=warmup_epochs, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=1e-6, by_epoch=True,
         begin=warmup_epochs, end=max_epochs, convert_to_iter_based=True),
    dict(type='CosineAnnealingWeightDecay', eta_min=0.4, by_epoch=True,
         begin=0, end=max_epochs, convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=max_epochs)
auto_scale_lr = dict(base_batch_size=8)
custom_hooks = [
    dict(type='EpochSeedHook'),
    dict(type='DistillationTeacherHook', momentum=0.996, end_momentum=1.0,
         teacher_temp=0.07, warmup_teacher_temp=0.04, warmup_epochs=2),
]
default_hooks = dict(logger=dict(type='LoggerHook', interval=1))
