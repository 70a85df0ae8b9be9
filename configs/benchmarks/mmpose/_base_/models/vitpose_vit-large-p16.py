# ViTPose "classic decoder" with mmpretrain's ViT-L/16 (arch 'large' = 1024
# dims, 24 blocks, 16 heads, as upstream ViTPose-large), drop path 0.5 as
# upstream. Everything else as in vitpose_vit-small-p16.py (read its notes
# on the checkpoint: pos_embed without the cls entry, no cls_token).
_base_ = ['./vitpose_vit-small-p16.py']

model = dict(
    backbone=dict(arch='large', drop_path_rate=0.5),
    head=dict(in_channels=1024))
