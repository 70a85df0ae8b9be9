# A tiny iBOT + ours for tests and smoke runs: the method of
# configs/_base_/models/ibot-equi_vit-small-p16.py on the ViT, data and
# schedule of the tiny iBOT config
# (configs/ibot/ibot_vit-tiny-p16_1xb8-4e_toy-shapes-64px.py), rotation
# targets.
_base_ = ['../_base_/models/ibot-equi_vit-small-p16.py',
          '../_base_/datasets/toy-shapes-64px_bs8_ibot.py',
          '../_base_/schedules/toy-shapes_adamw-coslr-4e_ibot.py']

d_equi = 64  # of the tiny head's 256 outputs
model = dict(
    # paper ranges are each family's defaults, so the type alone switches
    # the target: --cfg-options
    #   model.data_preprocessor.transform.type=color|blur|translation|se2
    data_preprocessor=dict(transform=dict(_delete_=True, type='rotation')),
    backbone=dict(
        arch=dict(_delete_=True, embed_dims=64, num_layers=2, num_heads=2,
                  feedforward_channels=128),
        img_size=64),
    neck=dict(in_channels=64, hidden_channels=128, bottleneck_channels=32,
              out_channels=256),
    # out_dim / patch_out_dim: 256 - d_equi, derived
    loss=dict(num_local=2),
    head=dict(d_equi=d_equi))
custom_hooks = [
    dict(type='EpochSeedHook'), {{_base_.teacher_hook}},
    dict(type='ReconVisualizationHook', interval=4, num_samples=2),
]
