# iBOT ViT-S/16 on 3DIEBench (Garrido et al., ICML 2023): the ImageNet recipe
# of ibot_vit-small-p16_8xb128-amp-coslr-800e_in1k.py on two renders of one
# object per sample (global view 1 from the first render, global view 2 from
# the second, local crops alternating), total batch 1024, bf16. Schedule:
# SIE's 2000 epochs; warm-ups scaled from iBOT's (configs/_base_/schedules/
# 3diebench_bs1024_adamw-coslr-2000e_ibot.py).
_base_ = ['../_base_/models/ibot_vit-small-p16.py',
          '../_base_/datasets/imagenet_bs128_ibot.py',
          '../_base_/datasets/three_die_bench.py',
          '../_base_/schedules/3diebench_bs1024_adamw-coslr-2000e_ibot.py']

train_dataloader = {{_base_.die_ibot_train_dataloader}}
