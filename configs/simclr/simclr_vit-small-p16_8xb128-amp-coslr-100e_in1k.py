# Plain SimCLR, ViT-S/16, ImageNet-1k: the baseline of
# ../equi_recon/simclr-equi_vit-small-p16_8xb128-amp-coslr-100e_in1k_all-rot.py
# (the ViT-S counterpart of the paper's Table 4 "SimCLR" row, Wang et al.,
# AAAI-26, arXiv 2503.18753), differing from it only in the keys of
# ./_base_/plain.py (d_equi = 0, no g_θ, no targets).
_base_ = ['../equi_recon/'
          'simclr-equi_vit-small-p16_8xb128-amp-coslr-100e_in1k_all-rot.py',
          './_base_/plain.py']

model = {{_base_.method_off}}
