# DINOv2 + ours, ViT-S/16: the method of dinov2-equi_vit-large-p16.py on the
# ViT-S/16 of dinov2_vit-small-p16.py ([P] publishes the DINOv2 + ours
# recipe for ViT-L/16 only; the ViT-S pairing is ours).
_base_ = ['./dinov2-equi_vit-large-p16.py']

model = dict(
    backbone=dict(arch='deit-small', drop_path_rate=0.1),
    neck=dict(in_channels=384))
