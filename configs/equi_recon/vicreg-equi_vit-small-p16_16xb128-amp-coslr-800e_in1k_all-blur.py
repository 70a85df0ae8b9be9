# VICReg + ours, ViT-S/16, paper row "Ours(VICReg, all, blur)":
# targets = Gaussian blur σ ∈ [0.1, 2].
_base_ = ['./vicreg-equi_vit-small-p16_16xb128-amp-coslr-800e_in1k_all-rot.py']

model = dict(data_preprocessor=dict(
    transform=dict(_delete_=True, type='blur', sigma=(0.1, 2.0))))
