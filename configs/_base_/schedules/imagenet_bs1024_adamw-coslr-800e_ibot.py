# iBOT's optimisation of the official ViT-S/16 recipe (total batch 1024,
# 800 epochs, bf16 autocast) and its teacher (EMA momentum and temperature
# schedules): the runtime of ../default_runtime.py plus the iBOT hooks.
# Every value and its source: configs/ibot/README.md. A config with another
# length inherits this file and rewrites param_scheduler and train_cfg.
_base_ = ['../default_runtime.py']

max_epochs = 800
warmup_epochs = 10
# lr = 5e-4 x 1024 / 256 (linear scaling rule of the official code)
optim_wrapper = dict(
    type='SSLAmpOptimWrapper',
    dtype='bfloat16',  # fp16 NaNs are reported upstream (ibot#19)
    loss_scale=dict(enabled=False),  # bf16 needs no loss scaling
    optimizer=dict(
        type='AdamW', lr=2e-3, betas=(0.9, 0.999), weight_decay=0.04,
        # one fused kernel per step for all parameters (torch >= 2.x, GPU
        # and CPU); fused=False (+ foreach=True) gives the same update
        # within fp32 rounding
        fused=True),
    clip_grad=dict(type='per_param', max_norm=3.0),
    constructor='SSLOptimWrapperConstructor',
    paramwise_cfg=dict(
        no_decay_1d=True,  # biases and norms
        no_decay_keys=('pos_embed', 'cls_token', 'mask_token'),
        freeze={'neck.last_layer': 1}),  # last layer frozen in epoch 0
)
# linear warm-up, cosine lr to 1e-6, cosine weight decay 0.04 -> 0.4
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-9, by_epoch=True, begin=0,
         end=warmup_epochs, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=1e-6, by_epoch=True,
         begin=warmup_epochs, end=max_epochs, convert_to_iter_based=True),
    dict(type='CosineAnnealingWeightDecay', eta_min=0.4, by_epoch=True,
         begin=0, end=max_epochs, convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
auto_scale_lr = dict(base_batch_size=1024)

# the teacher: EMA momentum 0.996 -> 1, temperatures 0.04 -> 0.07 over 30
# epochs. Configs that add a hook rewrite the list with
#   {{_base_.ibot_teacher_hook}}
ibot_teacher_hook = dict(type='DistillationTeacherHook',
                    momentum=0.996, end_momentum=1.0,
                    teacher_temp=0.07, warmup_teacher_temp=0.04,
                    teacher_patch_temp=0.07, warmup_teacher_patch_temp=0.04,
                    warmup_epochs=30)
custom_hooks = [
    dict(type='EpochSeedHook'),
    ibot_teacher_hook,
    # logs the teacher's entropy / prototypes in use; warns on a collapse
    dict(type='CollapseMonitorHook'),
]
find_unused_parameters = False
