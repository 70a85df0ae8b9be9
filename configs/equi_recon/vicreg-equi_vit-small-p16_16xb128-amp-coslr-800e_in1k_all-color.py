# VICReg + ours, ViT-S/16, paper row "Ours(VICReg, all, color)":
# targets = colour jitter (brightness, contrast, saturation ±0.4, hue ±0.1).
_base_ = ['./vicreg-equi_vit-small-p16_16xb128-amp-coslr-800e_in1k_all-rot.py']

model = dict(data_preprocessor=dict(
    transform=dict(_delete_=True, type='color', brightness=0.4,
                   contrast=0.4, saturation=0.4, hue=0.1)))
