# iBOT with a ViT-L/16 (paper / METHOD.md: architecture only); every other
# value follows the ViT-S/16 model (configs/ibot/README.md lists which).
_base_ = ['./ibot_vit-small-p16.py']

model = dict(
    backbone=dict(arch='large'),  # 1024 dims / 24 layers / 16 heads
    neck=dict(in_channels=1024))
