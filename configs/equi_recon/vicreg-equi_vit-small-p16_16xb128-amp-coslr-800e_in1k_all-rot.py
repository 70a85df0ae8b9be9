# VICReg + ours, ViT-S/16, ImageNet-1k, the paper's recipe (Wang et al.,
# AAAI-26, arXiv 2503.18753, Sec. "Pretraining"; Table 1 rows
# "Ours(VICReg, all, target)"): 800 epochs, batch 2048 = 16 GPUs x 128,
# AdamW with lr = 1e-4 x B/256 = 8e-4, cosine. SIE-style even split of a
# 512-d token embedding -- the first 256 dims of [CLS] feed the VICReg loss
# (through an expander), the last 256 dims of the patch tokens of both views
# feed the K = 2 reconstruction decoders. Warm-up (10 epochs) and weight
# decay (0.05) are not published (our choice; see the schedule file).
# Our shorter variant: vicreg-equi_vit-small-p16_8xb128-amp-coslr-100e_*.
_base_ = ['../_base_/models/vicreg-equi_vit-small-p16.py',
          '../_base_/datasets/imagenet_bs128_vicreg.py',
          '../_base_/schedules/imagenet_bs2048_adamw-coslr-800e_vicreg.py',
          './_base_/vicreg-equi_runtime.py']
