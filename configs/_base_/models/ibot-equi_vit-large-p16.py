# iBOT + ours, ViT-L/16: the method of ibot-equi_vit-small-p16.py on the
# ViT-L/16 of ibot_vit-large-p16.py.
_base_ = ['./ibot-equi_vit-small-p16.py']

model = dict(
    # with_cp=True: activation checkpointing of every layer (recomputed in
    # the backward pass; ~1/3 more step time, a fraction of the activation
    # memory; same loss and gradients) -- set it when the batch does not
    # fit, e.g. --cfg-options model.backbone.with_cp=True
    backbone=dict(arch='large'),  # 1024 dims / 24 layers / 16 heads
    neck=dict(in_channels=1024))
