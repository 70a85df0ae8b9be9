# iBOT + ours (all, rot), ViT-S/16, on 3DIEBench: the method of
# ibot-equi_vit-small-p16_8xb128-amp-coslr-800e_in1k_all-rot.py with the
# data and schedule of configs/ibot/ibot_vit-small-p16_8xb128-amp-coslr-
# 2000e_3diebench.py. The two global views are two renders of one object,
# each with the usual augmentations; g_θ (rotation ±45°) is applied to the
# second exactly as on ImageNet. Other targets: replace the transform, e.g.
#   --cfg-options model.data_preprocessor.transform.type=se2
_base_ = ['./ibot-equi_vit-small-p16_8xb128-amp-coslr-800e_in1k_all-rot.py',
          '../_base_/datasets/three_die_bench.py']

train_dataloader = {{_base_.die_ibot_train_dataloader}}
param_scheduler = {{_base_.die_param_scheduler}}
train_cfg = dict(max_epochs={{_base_.die_max_epochs}})
custom_hooks = [
    dict(type='EpochSeedHook'), {{_base_.die_teacher_hook}},
    dict(type='CollapseMonitorHook'),
    dict(type='ReconVisualizationHook', interval=2000, num_samples=4),
]
default_hooks = dict(checkpoint=dict(interval=50))
