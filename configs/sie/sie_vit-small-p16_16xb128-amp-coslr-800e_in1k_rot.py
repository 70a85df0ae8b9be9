# SIE(rot), ViT-S/16, ImageNet-1k: the paper's Table 1 row "SIE(rot)" (Wang
# et al., AAAI-26, arXiv 2503.18753; SIE: Garrido et al., ICML 2023). The
# recipe of VICReg + ours (equi_recon/vicreg-equi_vit-small-p16_16xb128-amp-
# coslr-800e_in1k_all-rot.py: the usual two-view pipeline, 800 epochs,
# batch 2048 = 16 GPUs x 128, AdamW lr 1e-4 x B/256 = 8e-4, cosine) so the
# comparison differs in the method only (see the model file). g_θ =
# rotation φ ~ U(-45°, 45°) on view 2; SIE's predictor is conditioned on φ.
_base_ = ['../_base_/models/sie_vit-small-p16.py',
          '../_base_/datasets/imagenet_bs128_vicreg.py',
          '../_base_/schedules/imagenet_bs2048_adamw-coslr-800e_vicreg.py',
          './_base_/sie_runtime.py']
