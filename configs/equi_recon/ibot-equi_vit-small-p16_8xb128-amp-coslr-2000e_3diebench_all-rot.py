# iBOT + ours (all, rot), ViT-S/16, on 3DIEBench: the method of
# ibot-equi_vit-small-p16_8xb128-amp-coslr-800e_in1k_all-rot.py with the
# data and schedule of configs/ibot/ibot_vit-small-p16_8xb128-amp-coslr-
# 2000e_3diebench.py. The two global views are two renders of one object,
# each with the usual augmentations; g_θ (rotation ±45°) is applied to the
# second exactly as on ImageNet. Other targets: replace the transform, e.g.
#   --cfg-options model.data_preprocessor.transform.type=se2
_base_ = ['../_base_/models/ibot-equi_vit-small-p16.py',
          '../_base_/datasets/imagenet_bs128_ibot.py',
          '../_base_/datasets/three_die_bench.py',
          '../_base_/schedules/3diebench_bs1024_adamw-coslr-2000e_ibot.py']

train_dataloader = {{_base_.die_ibot_train_dataloader}}
custom_hooks = [
    dict(type='EpochSeedHook'), {{_base_.ibot_teacher_hook}},
    dict(type='CollapseMonitorHook'),
    dict(type='ReconVisualizationHook', interval=2000, num_samples=4),
]
vis_backends = [dict(type='LocalVisBackend'),
                dict(type='TensorboardVisBackend')]
visualizer = dict(vis_backends=vis_backends)
