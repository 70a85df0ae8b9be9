# [X]'s cross-attention reconstruction of one view (see
# cross-attn-recon_vit-small-p16_16xb128-amp-coslr-800e_in1k.py) on a
# ViT-L/16, batch 32 x 32 -- our variant ([X] publishes no ViT-L run): the
# 100-epoch schedule of the VICReg + ours ViT-L configs (lr 2e-3 at batch
# 1024; imagenet_bs1024_adamw-coslr-100e_vicreg.py).
_base_ = ['../_base_/models/cross-attn-recon_vit-large-p16.py',
          '../_base_/datasets/imagenet_bs128_vicreg.py',
          '../_base_/schedules/imagenet_bs1024_adamw-coslr-100e_vicreg.py',
          './_base_/cross-attn-recon_runtime.py']

train_dataloader = dict(batch_size=32)
