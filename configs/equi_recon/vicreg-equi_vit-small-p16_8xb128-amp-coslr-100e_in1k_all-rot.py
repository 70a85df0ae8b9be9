# VICReg + ours, ViT-S/16, ImageNet-1k (paper Table 1 rows "Ours(VICReg, aug,
# target)"): SIE-style even split of a 512-d token embedding -- the first 256
# dims of [CLS] feed the VICReg loss (through an expander), the last 256 dims
# of the patch tokens of both views feed the K = 2 reconstruction decoders.
# The paper does not publish this schedule: 100 epochs of AdamW (lr 2e-3 for
# batch 1024, cosine, 10 warm-up epochs, weight decay 0.05) is our choice.
_base_ = ['../_base_/models/vicreg-equi_vit-small-p16.py',
          '../_base_/datasets/imagenet_bs128_vicreg.py',
          '../_base_/schedules/imagenet_bs1024_adamw-coslr-100e_vicreg.py',
          './_base_/vicreg-equi_runtime.py']
