# DINOv2 with a ViT-S/16 (384 dims / 12 layers / 6 heads). DINOv2 publishes
# no SSL recipe for ViT-S (its ViT-S/14 is distilled from ViT-g): the
# drop path 0.1 is iBOT's ViT-S value (not published for DINOv2, ours);
# every other value as dinov2_vit-large-p16.py.
_base_ = ['./dinov2_vit-large-p16.py']

model = dict(
    backbone=dict(arch='deit-small', drop_path_rate=0.1),  # NOT 'small'
    neck=dict(in_channels=384))
