# iBOT + ours, ViT-L/16, paper row "Ours(iBOT, all, SE(2))":
# targets = SE(2): rotation ±45° + translation ±10 px.
_base_ = ['./ibot-equi_vit-large-p16_32xb32-amp-coslr-250e_in1k_all-rot.py']

model = dict(data_preprocessor=dict(
    transform=dict(_delete_=True, type='se2', max_angle=45.0,
                   max_shift=10.0)))
