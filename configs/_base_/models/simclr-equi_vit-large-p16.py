# SimCLR + ours, ViT-L/16 (paper Table 4): the model of
# simclr-equi_vit-small-p16.py on a ViT-L/16.
_base_ = ['./simclr-equi_vit-small-p16.py']

model = dict(
    backbone=dict(arch='large'),  # 1024 dims / 24 layers / 16 heads
    projector=dict(in_channels=1024))
