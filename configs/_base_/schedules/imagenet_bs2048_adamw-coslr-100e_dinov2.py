# DINOv2's optimisation at [P]'s "DINOv2 + ours" recipe: ViT-L/16, 100
# epochs, total batch 2048, lr 4e-3, 10 warm-up epochs ([P], "Pretraining").
# The rest from DINOv2's ssl_default_config.yaml, which matches the iBOT
# schedule this file inherits (imagenet_bs1024_adamw-coslr-800e_ibot.py:
# AdamW (0.9, 0.999), cosine lr to 1e-6, weight decay cosine 0.04 -> 0.4,
# gradient clip 3.0, bf16) except: teacher momentum 0.992 (iBOT 0.996) -> 1,
# no weight decay only for biases, norms and layer-scale gammas (DINOv2
# decays the cls / pos / mask / register tokens), the last layer of every
# head frozen in epoch 0, layer-wise lr decay 0.9 and patch-embedding lr
# x0.2 (optim.layerwise_decay, optim.patch_embed_lr_mult; multipliers of the
# scheduled lr, the cosine floor included: eta_min_ratio = min_lr / lr). Its
# ViT-L/14 LVD recipe ends the weight decay at 0.2. Not reproduced
# (configs/dinov2/README.md): per-module gradient clipping (here: per
# parameter, as iBOT), the sqrt batch scaling of base_lr (here: [P]'s 4e-3).
_base_ = ['./imagenet_bs1024_adamw-coslr-800e_ibot.py']

max_epochs = 100
warmup_epochs = 10
base_lr, min_lr = 4e-3, 1e-6
optim_wrapper = dict(
    optimizer=dict(lr=base_lr),
    paramwise_cfg=dict(_delete_=True, no_decay_1d=True,
                       freeze={'last_layer': 1},
                       layer_decay_rate=0.9, patch_embed_lr_mult=0.2))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-9, by_epoch=True, begin=0,
         end=warmup_epochs, convert_to_iter_based=True),
    # eta_min_ratio: every group ends at min_lr x its multiplier (DINOv2)
    dict(type='CosineAnnealingLR', eta_min_ratio=min_lr / base_lr,
         by_epoch=True,
         begin=warmup_epochs, end=max_epochs, convert_to_iter_based=True),
    dict(type='CosineAnnealingWeightDecay', eta_min=0.4, by_epoch=True,
         begin=0, end=max_epochs, convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=max_epochs)
auto_scale_lr = dict(base_batch_size=2048)

# configs that add a hook rewrite the list with {{_base_.dinov2_teacher_hook}}
# (temperatures 0.04 -> 0.07 over 30 epochs, as iBOT)
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
