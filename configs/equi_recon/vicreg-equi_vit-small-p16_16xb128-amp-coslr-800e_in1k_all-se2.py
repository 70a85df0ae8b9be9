# VICReg + ours, ViT-S/16, paper row "Ours(VICReg, all, SE(2))":
# targets = SE(2): rotation ±45° + translation ±10 px.
_base_ = ['./vicreg-equi_vit-small-p16_16xb128-amp-coslr-800e_in1k_all-rot.py']

model = dict(data_preprocessor=dict(
    transform=dict(_delete_=True, type='se2', max_angle=45.0,
                   max_shift=10.0)))
