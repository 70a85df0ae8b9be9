# iBOT's optimisation scaled down for the tiny smoke configs on toy-shapes:
# fp32 AdamW lr 5e-4 at batch 8, 1 warm-up epoch + cosine over 4 epochs,
# weight decay 0.04 -> 0.4, teacher temperature warm-up over 2 epochs; logs
# every iteration. Otherwise imagenet_bs1024_adamw-coslr-800e_ibot.py.
_base_ = ['./imagenet_bs1024_adamw-coslr-800e_ibot.py']

max_epochs = 4
warmup_epochs = 1
optim_wrapper = dict(type='SSLOptimWrapper', _delete_=True,
                     optimizer=dict(type='AdamW', lr=5e-4,
                                    betas=(0.9, 0.999), weight_decay=0.04),
                     clip_grad=dict(type='per_param', max_norm=3.0),
                     constructor='SSLOptimWrapperConstructor',
                     paramwise_cfg=dict(
                         no_decay_1d=True,
                         no_decay_keys=('pos_embed', 'cls_token',
                                        'mask_token'),
                         freeze={'neck.last_layer': 1}))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-9, by_epoch=True, begin=0,
         end=warmup_epochs, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=1e-6, by_epoch=True,
         begin=warmup_epochs, end=max_epochs, convert_to_iter_based=True),
    dict(type='CosineAnnealingWeightDecay', eta_min=0.4, by_epoch=True,
         begin=0, end=max_epochs, convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=max_epochs)
auto_scale_lr = dict(base_batch_size=8)
# configs that add a hook rewrite the list with {{_base_.teacher_hook}}
teacher_hook = dict(type='DistillationTeacherHook', momentum=0.996,
                    end_momentum=1.0, teacher_temp=0.07,
                    warmup_teacher_temp=0.04, warmup_epochs=2)
custom_hooks = [dict(type='EpochSeedHook'), teacher_hook]
default_hooks = dict(logger=dict(type='LoggerHook', interval=1))
