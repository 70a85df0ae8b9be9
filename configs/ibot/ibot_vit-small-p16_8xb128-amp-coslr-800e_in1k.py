# iBOT ViT-S/16, 800 epochs on ImageNet-1k, total batch 1024 (8 GPUs x 128),
# bf16 autocast. The official ViT-S/16 recipe (bytedance/ibot README +
# main_ibot.py); see configs/ibot/README.md for every value and its source.
_base_ = ['../_base_/models/ibot_vit-small-p16.py',
          '../_base_/datasets/imagenet_bs128_ibot.py',
          '../_base_/schedules/imagenet_bs1024_adamw-coslr-800e_ibot.py']
