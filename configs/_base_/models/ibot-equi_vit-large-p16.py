# iBOT + ours, ViT-L/16: the method of ibot-equi_vit-small-p16.py on the
# ViT-L/16 of ibot_vit-large-p16.py.
_base_ = ['./ibot-equi_vit-small-p16.py']

model = dict(
    backbone=dict(arch='large'),  # 1024 dims / 24 layers / 16 heads
    neck=dict(in_channels=1024))
