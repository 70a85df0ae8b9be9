# A tiny DINOv2 + ours for tests and smoke runs: the method of
# configs/_base_/models/dinov2-equi_vit-large-p16.py on the ViT, data and
# schedule of configs/dinov2/dinov2_vit-tiny-p16_1xb8-4e_toy-shapes-64px.py;
# d_equi = 64 of the tiny head's 256 outputs (1/4, as 512 of 2048).
_base_ = ['../_base_/models/dinov2-equi_vit-small-p16.py',
          '../_base_/datasets/toy-shapes-64px_bs8_dinov2.py',
          '../_base_/schedules/toy-shapes_adamw-coslr-4e_ibot.py']

model = dict(
    backbone=dict(
        arch=dict(_delete_=True, embed_dims=64, num_layers=2, num_heads=2,
                  feedforward_channels=128),
        img_size=64, drop_path_rate=0.0),
    neck=dict(in_channels=64, hidden_channels=128, bottleneck_channels=32,
              out_channels=256),
    loss=dict(num_local=2),
    head=dict(d_equi=64))
# DINOv2's lr multipliers (imagenet_bs2048_adamw-coslr-100e_dinov2.py)
optim_wrapper = dict(paramwise_cfg=dict(layer_decay_rate=0.9,
                                        patch_embed_lr_mult=0.2))
teacher_hook = dict(type='DistillationTeacherHook', momentum=0.992,
                    end_momentum=1.0, teacher_temp=0.07,
                    warmup_teacher_temp=0.04, warmup_epochs=2)
custom_hooks = [
    dict(type='EpochSeedHook'), teacher_hook,
    dict(type='ReconVisualizationHook', interval=4, num_samples=2),
]
