# VICReg + ours, ViT-S/16, ImageNet-1k -- OUR SHORTER VARIANT of the paper's
# row "Ours(VICReg, all, rot)"; the paper's recipe is
# vicreg-equi_vit-small-p16_16xb128-amp-coslr-800e_in1k_all-rot.py. SIE-style even split of a 512-d token embedding -- the first 256
# dims of [CLS] feed the VICReg loss (through an expander), the last 256 dims
# of the patch tokens of both views feed the K = 2 reconstruction decoders.
# What differs from the paper (800 epochs, batch 2048, lr 1e-4 x B/256 =
# 8e-4): 100 epochs, batch 1024 = 8 x 128, lr 2e-3 (our choice, for an
# 8-GPU run of 1/8 the paper's compute); model, data and the remaining
# optimiser settings are the same.
_base_ = ['../_base_/models/vicreg-equi_vit-small-p16.py',
          '../_base_/datasets/imagenet_bs128_vicreg.py',
          '../_base_/schedules/imagenet_bs1024_adamw-coslr-100e_vicreg.py',
          './_base_/vicreg-equi_runtime.py']
