# SIE(trans), ViT-S/16 (paper Table 1 row "SIE(trans)"): g_θ = translation,
# tx, ty ~ U(-10, 10) px.
_base_ = ['./sie_vit-small-p16_16xb128-amp-coslr-800e_in1k_rot.py']

model = dict(data_preprocessor=dict(
    transform=dict(_delete_=True, type='translation', max_shift=10.0)))
