# SIE(color), ViT-S/16 (paper Table 1 row "SIE(color)"): g_θ = colour jitter
# (brightness, contrast, saturation ±0.4, hue ±0.1), θ of 4 values.
_base_ = ['./sie_vit-small-p16_16xb128-amp-coslr-800e_in1k_rot.py']

model = dict(data_preprocessor=dict(
    transform=dict(_delete_=True, type='color', brightness=0.4,
                   contrast=0.4, saturation=0.4, hue=0.1)))
