# Plain VICReg (Bardes et al., ICLR 2022), ViT-S/16, ImageNet-1k: the
# paper's Table 1 / Table 5 row "VICReg" (Wang et al., AAAI-26, arXiv
# 2503.18753) next to "Ours(VICReg, all, ·)": the recipe of
# ../equi_recon/
#     vicreg-equi_vit-small-p16_16xb128-amp-coslr-800e_in1k_all-rot.py
# (800 epochs, batch 2048, lr 1e-4 x B/256) with the method switched off by
# the keys of ../simclr/_base_/plain.py and nothing else changed: d_equi = 0
# (the expander sees all 512 dims of the projected [CLS]), no g_θ on view 2
# (identity), no targets.
_base_ = ['../equi_recon/'
          'vicreg-equi_vit-small-p16_16xb128-amp-coslr-800e_in1k_all-rot.py',
          '../simclr/_base_/plain.py']

model = {{_base_.method_off}}
