# A tiny iBOT for tests and smoke runs: a 2-layer ViT on the generated
# toy-shapes images (64 px globals, 32 px locals), fp32, a few seconds per
# epoch on a CPU. Same code path as the ImageNet configs.
#   python tools/dataset_converters/make_toy_shapes.py --out data/toy_shapes_64 --size 64
#   python tools/train.py configs/ibot/ibot_vit-tiny-p16_1xb8-4e_toy-shapes-64px.py
_base_ = ['../_base_/models/ibot_vit-small-p16.py',
          '../_base_/datasets/toy-shapes-64px_bs8_ibot.py',
          '../_base_/schedules/imagenet_bs1024_adamw-coslr-800e_ibot.py']

model = dict(
    backbone=dict(
        arch=dict(_delete_=True, embed_dims=64, num_layers=2, num_heads=2,
                  feedforward_channels=128),
        img_size=64),
    neck=dict(in_channels=64, hidden_channels=128, bottleneck_channels=32,
              out_channels=256),
    loss=dict(out_dim=256, patch_out_dim=256, num_local=2))

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
