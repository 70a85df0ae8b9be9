# A tiny SimCLR + ours for tests and smoke runs on generated 64 px images:
# the model of simclr-equi_vit-small-p16_8xb128-amp-coslr-100e_in1k_all-rot.py
# scaled down to a 2-layer ViT on 64 px views (64-d embedding, d_equi = 32),
# fp32 AdamW at batch 8 over 4 epochs.
_base_ = ['../_base_/models/simclr-equi_vit-small-p16.py',
          '../_base_/datasets/toy-shapes-64px_bs8_simclr.py',
          '../_base_/schedules/imagenet_bs1024_adamw-coslr-100e_simclr.py',
          '../_base_/default_runtime.py']

d_equi = 32
model = dict(
    data_preprocessor=dict(transform=dict(_delete_=True, type='rotation')),
    backbone=dict(
        arch=dict(_delete_=True, embed_dims=64, num_layers=2, num_heads=2,
                  feedforward_channels=128),
        img_size=64),
    projector=dict(in_channels=64, hidden_channels=128, out_channels=64),
    head=dict(d_equi=d_equi))

max_epochs = 4
warmup_epochs = 1
optim_wrapper = dict(type='SSLOptimWrapper', _delete_=True,
                     optimizer=dict(type='AdamW', lr=5e-4,
                                    betas=(0.9, 0.999), weight_decay=0.1),
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
vis_backends = [dict(type='LocalVisBackend'),
                dict(type='TensorboardVisBackend')]
visualizer = dict(vis_backends=vis_backends)
