# VICReg + ours, ViT-L/16, batch 32 x 32 -- our variant: the paper trains
# VICReg + ours with ViT-S/16 only (800 epochs, batch 2048, lr 1e-4 x B/256;
# vicreg-equi_vit-small-p16_16xb128-amp-coslr-800e_in1k_all-rot.py); this
# ViT-L model takes our 100-epoch schedule (lr 2e-3 at batch 1024).
_base_ = ['../_base_/models/vicreg-equi_vit-large-p16.py',
          '../_base_/datasets/imagenet_bs128_vicreg.py',
          '../_base_/schedules/imagenet_bs1024_adamw-coslr-100e_vicreg.py',
          './_base_/vicreg-equi_runtime.py']

train_dataloader = dict(batch_size=32)
