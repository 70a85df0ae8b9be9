# DINOv2's optimisation at [P]'s "DINOv2 + ours" recipe: ViT-L/16, 100
# epochs, total batch 2048, lr 4e-3, 10 warm-up epochs ([P], "Pretraining").
# The rest from DINOv2's ssl_default_config.yaml: AdamW (0.9, 0.999), cosine
# lr to 1e-6, weight decay cosine 0.04 -> 0.4 (its ViT-L/14 LVD recipe:
# -> 0.2), gradient clip 3.0, last layer frozen in epoch 0, teacher momentum
# cosine 0.992 -> 1, teacher temperature 0.04 -> 0.07 over 30 epochs.
# Not reproduced (see configs/dinov2/README.md): DINOv2's layer-wise lr decay
# 0.9 and patch-embedding lr x0.2 (our SSLOptimWrapperConstructor has
# neither), its per-module gradient clipping (here: per parameter, as iBOT)
# and its sqrt batch scaling of base_lr (here: [P]'s lr 4e-3 as given).
_base_ = ['../default_runtime.py']

max_epochs = 100
warmup_epochs = 10
optim_wrapper = dict(
    type='SSLAmpOptimWrapper',
    dtype='bfloat16',  # DINOv2 trains in fp16 + grad scaler; bf16 here
    loss_scale=dict(enabled=False),
    optimizer=dict(type='AdamW', lr=4e-3, betas=(0.9, 0.999),
                   weight_decay=0.04, fused=True),
    clip_grad=dict(type='per_param', max_norm=3.0),
    constructor='SSLOptimWrapperConstructor',
    paramwise_cfg=dict(
        # DINOv2: no decay for biases, norms and layer-scale gammas (all
        # <= 1-D); its cls/pos/mask/register tokens are decayed
        no_decay_1d=True,
        # last layer of the (shared or both separate) heads, epoch 0
        freeze={'last_layer': 1}),
)
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-9, by_epoch=True, begin=0,
         end=warmup_epochs, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=1e-6, by_epoch=True,
         begin=warmup_epochs, end=max_epochs, convert_to_iter_based=True),
    dict(type='CosineAnnealingWeightDecay', eta_min=0.4, by_epoch=True,
         begin=0, end=max_epochs, convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
auto_scale_lr = dict(base_batch_size=2048)

# configs that add a hook rewrite the list with {{_base_.dinov2_teacher_hook}}
dinov2_teacher_hook = dict(
    type='DistillationTeacherHook', momentum=0.992, end_momentum=1.0,
    teacher_temp=0.07, warmup_teacher_temp=0.04,
    teacher_patch_temp=0.07, warmup_teacher_patch_temp=0.04,
    warmup_epochs=30)
custom_hooks = [
    dict(type='EpochSeedHook'),
    dinov2_teacher_hook,
    dict(type='CollapseMonitorHook'),
]
find_unused_parameters = False
