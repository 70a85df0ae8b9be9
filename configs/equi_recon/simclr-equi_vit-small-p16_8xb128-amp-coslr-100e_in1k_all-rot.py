# SimCLR + ours, ViT-S/16, ImageNet-1k, rotation target (the paper's Table 4
# has SimCLR + ours on ViT-L/16 only; this is the ViT-S counterpart). Model:
# ../_base_/models/simclr-equi_vit-small-p16.py (InfoNCE on the first 256 of
# 512 dims of [CLS], K = 2 decoders on the last 256 of the patches); the
# schedule is ours, not published (see its file).
_base_ = ['../_base_/models/simclr-equi_vit-small-p16.py',
          '../_base_/datasets/imagenet_bs128_simclr.py',
          '../_base_/schedules/imagenet_bs1024_adamw-coslr-100e_simclr.py',
          './_base_/vicreg-equi_runtime.py']
