# SIE(blur), ViT-S/16 (paper Table 1 row "SIE(blur)"): g_θ = Gaussian blur,
# σ ~ U(0.1, 2) px.
_base_ = ['./sie_vit-small-p16_16xb128-amp-coslr-800e_in1k_rot.py']

model = dict(data_preprocessor=dict(
    transform=dict(_delete_=True, type='blur', sigma=(0.1, 2.0))))
