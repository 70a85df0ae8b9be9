# iBOT ViT-L/16, 250 epochs on ImageNet-1k, total batch 1024 (32 GPUs x 32),
# bf16 autocast. Values not given for ViT-L by the paper/METHOD follow the
# ViT-S recipe (configs/ibot/README.md lists which).
_base_ = ['./ibot_vit-small-p16_8xb128-amp-coslr-800e_in1k.py']

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
