# VICReg + ours, ViT-S/16, paper row "Ours(VICReg, all, SE(2))":
# targets = SE(2): rotation ±45° + translation ±10 px.
_base_ = [
    './vicreg-equi_vit-small-p16_8xb128-amp-coslr-100e_in1k_all-rot.py',
    './_base_/targets.py'
]

model = dict(data_preprocessor=dict(transform={{_base_.se2_target}}))
