# [X]'s cross-attention reconstruction (cross-attn-recon_vit-small-p16.py)
# on a ViT-L/16.
_base_ = ['./cross-attn-recon_vit-small-p16.py']

model = dict(
    backbone=dict(arch='large'),  # 1024 dims / 24 layers / 16 heads
    projector=dict(in_channels=1024))
