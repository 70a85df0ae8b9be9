# iBOT + ours, ViT-L/16, ImageNet-1k, 250 epochs, batch 32 x 32 (paper
# Table 4 "iBOT + Ours(all, ...)"); the ViT-L iBOT settings of
# configs/ibot/ibot_vit-large-p16_32xb32-amp-coslr-250e_in1k.py.
_base_ = ['./ibot-equi_vit-small-p16_8xb128-amp-coslr-800e_in1k_all-rot.py']

model = dict(
    backbone=dict(arch='large'),  # 1024 dims / 24 layers / 16 heads
    neck=dict(in_channels=1024))
train_dataloader = dict(batch_size=32)

max_epochs = 250
warmup_epochs = 10
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-9, by_epoch=True, begin=0,
         end=warmup_epochs, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=1e-6, by_epoch=True,
         begin=warmup_epochs, end=max_epochs, convert_to_iter_based=True),
    dict(type='CosineAnnealingWeightDecay', eta_min=0.4, by_epoch=True,
         begin=0, end=max_epochs, convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=max_epochs)
