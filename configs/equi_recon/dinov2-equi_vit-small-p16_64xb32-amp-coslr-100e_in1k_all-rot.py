# DINOv2 + ours, ViT-S/16: the ViT-L/16 recipe of
# dinov2-equi_vit-large-p16_64xb32-amp-coslr-100e_in1k_all-rot.py on a
# ViT-S/16 (not in [P]; ours). Baseline:
# configs/dinov2/dinov2_vit-small-p16_64xb32-amp-coslr-100e_in1k.py.
_base_ = ['../_base_/models/dinov2-equi_vit-small-p16.py',
          '../_base_/datasets/imagenet_bs128_dinov2.py',
          '../_base_/schedules/imagenet_bs2048_adamw-coslr-100e_dinov2.py']

train_dataloader = dict(batch_size=32)
custom_hooks = [
    dict(type='EpochSeedHook'), {{_base_.dinov2_teacher_hook}},
    dict(type='CollapseMonitorHook'),
    dict(type='ReconVisualizationHook', interval=2000, num_samples=4),
]
