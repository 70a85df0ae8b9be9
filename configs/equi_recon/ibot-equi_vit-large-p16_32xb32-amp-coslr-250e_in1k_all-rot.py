# iBOT + ours, ViT-L/16, ImageNet-1k, 250 epochs, batch 32 x 32 (paper
# Table 4 "iBOT + Ours(all, ...)"): the ViT-L iBOT settings of
# configs/ibot/ibot_vit-large-p16_32xb32-amp-coslr-250e_in1k.py (model,
# schedule) with the method of the ViT-S config.
_base_ = ['../_base_/models/ibot-equi_vit-large-p16.py',
          '../_base_/datasets/imagenet_bs128_ibot.py',
          '../_base_/schedules/imagenet_bs1024_adamw-coslr-250e_ibot.py']

train_dataloader = dict(batch_size=32)
custom_hooks = [
    dict(type='EpochSeedHook'), {{_base_.ibot_teacher_hook}},
    dict(type='CollapseMonitorHook'),
    dict(type='ReconVisualizationHook', interval=2000, num_samples=4),
]
vis_backends = [dict(type='LocalVisBackend'),
                dict(type='TensorboardVisBackend')]
visualizer = dict(vis_backends=vis_backends)
