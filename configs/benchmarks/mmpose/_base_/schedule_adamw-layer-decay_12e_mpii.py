# The 12-epoch ViTPose schedule for MPII: 12 MPII epochs are only ~520
# iterations at batch 512 (22246 training persons), so warm up over the
# first epoch instead of COCO's 500 iterations.
_base_ = ['./schedule_adamw-layer-decay_12e.py']

param_scheduler = [
    dict(
        type='LinearLR', begin=0, end=1, start_factor=0.001, by_epoch=True,
        convert_to_iter_based=True),
    dict(
        type='MultiStepLR',
        begin=0,
        end={{_base_.max_epochs}},
        milestones=[10, 11],
        gamma=0.1,
        by_epoch=True)
]
