# DINOv2 ViT-S/16, ImageNet-1k: the ViT-L/16 recipe of
# dinov2_vit-large-p16_64xb32-amp-coslr-100e_in1k.py with a ViT-S/16 (drop
# path 0.1; not published for DINOv2, ours). Pairs with
# configs/equi_recon/dinov2-equi_vit-small-p16_64xb32-amp-coslr-100e_in1k_all-rot.py.
_base_ = ['../_base_/models/dinov2_vit-small-p16.py',
          '../_base_/datasets/imagenet_bs128_dinov2.py',
          '../_base_/schedules/imagenet_bs2048_adamw-coslr-100e_dinov2.py']

train_dataloader = dict(batch_size=32)
