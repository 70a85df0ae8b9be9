# DINOv2 + ours, ViT-L/16, ImageNet-1k, 100 epochs, batch 64 x 32 = 2048,
# lr 4e-3, 10 warm-up epochs ([P], "Pretraining"; Tables 4-8 "DINOv2 +
# Ours(all, rot)"): d_equi = 512 of the 2048-d head. Its baseline is
# configs/dinov2/dinov2_vit-large-p16_64xb32-amp-coslr-100e_in1k.py (same
# head widths; DINOv2's own recipe uses 65536 prototypes, one key:
# model.neck.out_channels).
# From the _base_ files: DINOv2's lr multipliers (layer-wise decay 0.9,
# patch embedding x0.2), batch-level block masks (dinov2_mask_collate) and
# uniform drop path 0.3.
_base_ = ['../_base_/models/dinov2-equi_vit-large-p16.py',
          '../_base_/datasets/imagenet_bs128_dinov2.py',
          '../_base_/schedules/imagenet_bs2048_adamw-coslr-100e_dinov2.py']

train_dataloader = dict(batch_size=32)
custom_hooks = [
    dict(type='EpochSeedHook'), {{_base_.dinov2_teacher_hook}},
    dict(type='CollapseMonitorHook'),
    dict(type='ReconVisualizationHook', interval=2000, num_samples=4),
]
