# DINOv2 ViT-L/16, ImageNet-1k, 100 epochs, total batch 2048 (64 GPUs x
# 32), bf16 autocast: the base of [P]'s "DINOv2 + ours" rows (same head
# widths as configs/equi_recon/dinov2-equi_vit-large-p16_64xb32-amp-coslr-100e_in1k_all-rot.py,
# which differs only in d_equi). DINOv2's own recipe uses 65536 prototypes:
# --cfg-options model.neck.out_channels=65536 model.loss.out_dim=65536
# model.loss.patch_out_dim=65536. Values and sources: README.md here.
# From the _base_ files: DINOv2's lr multipliers (layer-wise decay 0.9,
# patch embedding x0.2), batch-level block masks (dinov2_mask_collate) and
# uniform drop path 0.3.
_base_ = ['../_base_/models/dinov2_vit-large-p16.py',
          '../_base_/datasets/imagenet_bs128_dinov2.py',
          '../_base_/schedules/imagenet_bs2048_adamw-coslr-100e_dinov2.py']

train_dataloader = dict(batch_size=32)
