# iBOT ViT-S/16 on 3DIEBench (Garrido et al., ICML 2023): the ImageNet recipe
# of ibot_vit-small-p16_8xb128-amp-coslr-800e_in1k.py on two renders of one
# object per sample (global view 1 from the first render, global view 2 from
# the second, local crops alternating), total batch 1024, bf16. Schedule:
# SIE's 2000 epochs; warm-ups scaled from iBOT's (configs/_base_/datasets/
# three_die_bench.py).
_base_ = ['./ibot_vit-small-p16_8xb128-amp-coslr-800e_in1k.py',
          '../_base_/datasets/three_die_bench.py']

train_dataloader = {{_base_.die_ibot_train_dataloader}}
param_scheduler = {{_base_.die_param_scheduler}}
train_cfg = dict(max_epochs={{_base_.die_max_epochs}})
custom_hooks = [dict(type='EpochSeedHook'), {{_base_.die_teacher_hook}},
                dict(type='CollapseMonitorHook')]
default_hooks = dict(checkpoint=dict(interval=50))
