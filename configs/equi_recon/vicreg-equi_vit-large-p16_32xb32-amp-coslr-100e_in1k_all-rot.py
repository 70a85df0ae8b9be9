# VICReg + ours, ViT-L/16, batch 32 x 32 (see the ViT-S config for the
# recipe; the schedule is our choice, not published).
_base_ = ['../_base_/models/vicreg-equi_vit-large-p16.py',
          '../_base_/datasets/imagenet_bs128_vicreg.py',
          '../_base_/schedules/imagenet_bs1024_adamw-coslr-100e_vicreg.py',
          './_base_/vicreg-equi_runtime.py']

train_dataloader = dict(batch_size=32)
