# iBOT ViT-L/16, 250 epochs on ImageNet-1k, total batch 1024 (32 GPUs x 32),
# bf16 autocast. Values not given for ViT-L by the paper/METHOD follow the
# ViT-S recipe (configs/ibot/README.md lists which).
_base_ = ['../_base_/models/ibot_vit-large-p16.py',
          '../_base_/datasets/imagenet_bs128_ibot.py',
          '../_base_/schedules/imagenet_bs1024_adamw-coslr-250e_ibot.py']

train_dataloader = dict(batch_size=32)
