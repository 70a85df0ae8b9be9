# A tiny VICReg + ours for tests and smoke runs on generated 64 px images.
# The model of vicreg-equi_vit-small-p16_8xb128-amp-coslr-100e_in1k_all-rot.py
# scaled down to a 2-layer ViT on 64 px views.
_base_ = ['../_base_/models/vicreg-equi_vit-small-p16.py',
          '../_base_/datasets/toy-shapes-64px_bs8_vicreg.py',
          '../_base_/schedules/toy-shapes_adamw-coslr-4e_vicreg.py',
          '../_base_/default_runtime.py']

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

custom_hooks = [
    dict(type='EpochSeedHook'),
    dict(type='ReconVisualizationHook', interval=4, num_samples=2),
]
default_hooks = dict(logger=dict(type='LoggerHook', interval=1))
vis_backends = [dict(type='LocalVisBackend'),
                dict(type='TensorboardVisBackend')]
visualizer = dict(vis_backends=vis_backends)
