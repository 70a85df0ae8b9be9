# iBOT ViT-S/16, 800 epochs on ImageNet-1k, total batch 1024 (8 GPUs x 128),
# bf16 autocast. The official ViT-S/16 recipe (bytedance/ibot README +
# main_ibot.py); see configs/ibot/README.md for every value and its source.
_base_ = ['../_base_/default_runtime.py']

# ---------------------------------------------------------------- model
num_local = 10
model = dict(
    type='iBOT',
    data_preprocessor=dict(
        type='SelfSupDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=False),  # iBOTMultiCrop already emits RGB
    backbone=dict(
        type='iBOTViT',
        arch='deit-small',  # 384 dims / 12 layers / 6 heads (NOT 'small')
        img_size=224,
        patch_size=16,
        qkv_bias=True,
        drop_path_rate=0.1),  # student only; the teacher gets 0
    neck=dict(
        type='iBOTNeck',
        in_channels=384,
        hidden_channels=2048,
        bottleneck_channels=256,
        out_channels=8192,
        shared_head=True,
        norm_last_layer=False),
    loss=dict(
        type='iBOTLoss',
        out_dim=8192,
        patch_out_dim=8192,
        num_global=2,
        num_local=num_local,
        student_temp=0.1,
        center_momentum=0.9,
        center_momentum2=0.9,
        lambda_cls=1.0,
        lambda_patch=1.0),
)

# ----------------------------------------------------------------- data
data_root = 'data/imagenet/'
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='iBOTMultiCrop',
        global_size=224,
        local_size=96,
        num_local=num_local,
        global_scale=(0.25, 1.0),
        local_scale=(0.05, 0.25),
        flip_prob=0.5,
        jitter_prob=0.8,
        brightness=0.4,
        contrast=0.4,
        saturation=0.2,
        hue=0.1,
        gray_prob=0.2,
        blur_probs=(1.0, 0.1, 0.5),  # global 1, global 2, local
        blur_sigma=(0.1, 2.0),
        solarize_probs=(0.0, 0.2, 0.0)),
    dict(
        type='iBOTBlockMaskGenerator',
        patch_size=16,
        num_global=2,
        pred_ratio=(0.0, 0.3),  # p = 0.5 unmasked, else U(0.1, 0.5)
        pred_ratio_var=(0.0, 0.2),
        pred_aspect_ratio=(0.3, 1 / 0.3)),
    dict(type='PackInputs', algorithm_keys=['crop_params'],
         meta_keys=['img_path']),
]
train_dataloader = dict(
    batch_size=128,
    num_workers=10,
    persistent_workers=False,  # exact --resume needs fresh workers (README)
    pin_memory=True,
    drop_last=True,
    worker_init_fn=dict(type='epoch_worker_init_fn'),
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type='ImageNet',
        data_root=data_root,
        split='train',
        pipeline=train_pipeline))

# ------------------------------------------------------------- schedule
max_epochs = 800
warmup_epochs = 10
# lr = 5e-4 x 1024 / 256 (linear scaling rule of the official code)
optim_wrapper = dict(
    type='SSLAmpOptimWrapper',
    dtype='bfloat16',  # fp16 NaNs are reported upstream (ibot#19)
    loss_scale=dict(enabled=False),  # bf16 needs no loss scaling
    optimizer=dict(
        type='AdamW', lr=2e-3, betas=(0.9, 0.999), weight_decay=0.04),
    clip_grad=dict(type='per_param', max_norm=3.0),
    constructor='SSLOptimWrapperConstructor',
    paramwise_cfg=dict(
        no_decay_1d=True,  # biases and norms
        no_decay_keys=('pos_embed', 'cls_token', 'mask_token'),
        freeze={'neck.last_layer': 1}),  # last layer frozen in epoch 0
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
auto_scale_lr = dict(base_batch_size=1024)

custom_hooks = [
    dict(type='EpochSeedHook'),
    dict(type='DistillationTeacherHook',
         momentum=0.996, end_momentum=1.0,
         teacher_temp=0.07, warmup_teacher_temp=0.04,
         teacher_patch_temp=0.07, warmup_teacher_patch_temp=0.04,
         warmup_epochs=30),
    # logs the teacher's entropy / prototypes in use; warns on a collapse
    dict(type='CollapseMonitorHook'),
]
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50),
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=3))
find_unused_parameters = False
