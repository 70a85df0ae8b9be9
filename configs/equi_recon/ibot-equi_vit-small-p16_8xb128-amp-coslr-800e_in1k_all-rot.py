# iBOT + ours, ViT-S/16, ImageNet-1k, 800 epochs (paper row "Ours(iBOT, all,
# rot)"): the full iBOT augmentation ("all"), targets = intermediate
# rotations. Everything else is the iBOT recipe of
# configs/ibot/ibot_vit-small-p16_8xb128-amp-coslr-800e_in1k.py.
_base_ = ['../_base_/models/ibot-equi_vit-small-p16.py',
          '../_base_/datasets/imagenet_bs128_ibot.py',
          '../_base_/schedules/imagenet_bs1024_adamw-coslr-800e_ibot.py']

custom_hooks = [
    dict(type='EpochSeedHook'), {{_base_.ibot_teacher_hook}},
    dict(type='CollapseMonitorHook'),
    dict(type='ReconVisualizationHook', interval=2000, num_samples=4),
]
vis_backends = [dict(type='LocalVisBackend'),
                dict(type='TensorboardVisBackend')]
visualizer = dict(vis_backends=vis_backends)
