# iBOT with a ViT-L/16 (paper / METHOD.md: architecture only); every other
# value follows the ViT-S/16 model (configs/ibot/README.md lists which).
_base_ = ['./ibot_vit-small-p16.py']

model = dict(
    # with_cp=True: activation checkpointing of every layer (recomputed in
    # the backward pass; ~1/3 more step time, a fraction of the activation
    # memory; same loss and gradients) -- set it when the batch does not
    # fit, e.g. --cfg-options model.backbone.with_cp=True
    backbone=dict(arch='large'),  # 1024 dims / 24 layers / 16 heads
    neck=dict(in_channels=1024))
