# VICReg + ours, ViT-S/16, paper row "Ours(VICReg, all, trans)":
# targets = translation (tx, ty) ∈ [−10, 10] px.
_base_ = ['./vicreg-equi_vit-small-p16_16xb128-amp-coslr-800e_in1k_all-rot.py']

model = dict(data_preprocessor=dict(
    transform=dict(_delete_=True, type='translation', max_shift=10.0)))
