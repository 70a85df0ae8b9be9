# A tiny SimCLR + ours for tests and smoke runs on generated 64 px images:
# the model of simclr-equi_vit-small-p16_8xb128-amp-coslr-100e_in1k_all-rot.py
# scaled down to a 2-layer ViT on 64 px views (64-d embedding, d_equi = 32),
# fp32 AdamW at batch 8 over 4 epochs (the toy VICReg schedule with SimCLR's
# weight decay 0.1).
_base_ = ['../_base_/models/simclr-equi_vit-small-p16.py',
          '../_base_/datasets/toy-shapes-64px_bs8_simclr.py',
          '../_base_/schedules/toy-shapes_adamw-coslr-4e_vicreg.py',
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

# the tiny VICReg schedule with SimCLR's weight decay
optim_wrapper = dict(optimizer=dict(weight_decay=0.1))
custom_hooks = [
    dict(type='EpochSeedHook'),
    dict(type='ReconVisualizationHook', interval=4, num_samples=2),
]
default_hooks = dict(logger=dict(type='LoggerHook', interval=1))
vis_backends = [dict(type='LocalVisBackend'),
                dict(type='TensorboardVisBackend')]
visualizer = dict(vis_backends=vis_backends)
