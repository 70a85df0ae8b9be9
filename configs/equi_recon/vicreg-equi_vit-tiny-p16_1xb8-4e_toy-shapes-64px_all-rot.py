# A tiny VICReg + ours for tests and smoke runs on generated 64 px images.
_base_ = ['./vicreg-equi_vit-small-p16_8xb128-amp-coslr-100e_in1k_all-rot.py']

d_equi = 32
model = dict(
    # the family's default ranges: switch with transform.type=... as in
    # ibot-equi_vit-tiny-p16_1xb8-4e_toy-shapes-64px_all-rot.py
    data_preprocessor=dict(transform=dict(_delete_=True, type='rotation')),
    backbone=dict(
        arch=dict(_delete_=True, embed_dims=64, num_layers=2, num_heads=2,
                  feedforward_channels=128),
        img_size=64),
    projector=dict(in_channels=64, hidden_channels=128, out_channels=64),
    expander=dict(hidden_channels=128,  # in_channels: 64 - d_equi
                  out_channels=128),
    head=dict(d_equi=d_equi))

data_root = 'data/toy_shapes_64'
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='iBOTMultiCrop', global_size=64, num_local=0,
         global_scale=(0.25, 1.0), blur_probs=(1.0, 0.1, 0.0),
         solarize_probs=(0.0, 0.2, 0.0)),
    dict(type='PackInputs', algorithm_keys=['crop_params'],
         meta_keys=['img_path']),
]
train_dataloader = dict(
    batch_size=8,
    num_workers=0,
    pin_memory=False,
    dataset=dict(_delete_=True, type='CustomDataset', data_root=data_root,
                 data_prefix='train', with_label=False,
                 pipeline=train_pipeline))
max_epochs = 4
warmup_epochs = 1
optim_wrapper = dict(type='SSLOptimWrapper', _delete_=True,
                     optimizer=dict(type='AdamW', lr=5e-4,
                                    betas=(0.9, 0.999), weight_decay=0.05),
                     clip_grad=dict(max_norm=3.0),
                     constructor='SSLOptimWrapperConstructor',
                     paramwise_cfg=dict(no_decay_1d=True,
                                        no_decay_keys=('pos_embed',
                                                       'cls_token')))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-9, by_epoch=True, begin=0,
         end=warmup_epochs, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=1e-6, by_epoch=True,
         begin=warmup_epochs, end=max_epochs, convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=max_epochs)
auto_scale_lr = dict(base_batch_size=8)
custom_hooks = [
    dict(type='EpochSeedHook'),
    dict(type='ReconVisualizationHook', interval=4, num_samples=2),
]
default_hooks = dict(logger=dict(type='LoggerHook', interval=1))
