# VICReg + ours, ViT-S/16, ImageNet-1k (paper Table 1 rows "Ours(VICReg, aug,
# target)"): SIE-style even split of a 512-d token embedding -- the first 256
# dims of [CLS] feed the VICReg loss (through an expander), the last 256 dims
# of the patch tokens of both views feed the K = 2 reconstruction decoders.
# The paper does not publish this schedule: 100 epochs of AdamW (lr 2e-3 for
# batch 1024, cosine, 10 warm-up epochs, weight decay 0.05) is our choice.
_base_ = ['../_base_/default_runtime.py']

d_equi = 256
num_intermediate = 2
model = dict(
    type='VICRegEquiRecon',
    data_preprocessor=dict(
        type='EquiReconDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=False,  # iBOTMultiCrop emits RGB
        transform=dict(type='rotation', max_angle=45.0),
        num_intermediate=num_intermediate,
        view_index=1),
    backbone=dict(
        type='VisionTransformer',
        arch='deit-small',
        img_size=224,
        patch_size=16,
        drop_path_rate=0.1),
    projector=dict(
        type='MLPNeck', in_channels=384, hidden_channels=2048,
        out_channels=512, num_layers=2, norm_cfg=dict(type='LN'),
        act='GELU'),
    expander=dict(
        type='MLPNeck', in_channels=512 - d_equi, hidden_channels=2048,
        out_channels=2048, num_layers=3, norm_cfg=dict(type='SyncBN'),
        act='ReLU'),
    loss=dict(type='VICRegLoss', sim_coeff=25.0, std_coeff=25.0,
              cov_coeff=1.0),
    d_equi=d_equi,
    num_intermediate=num_intermediate,
    view_index=1,
    decoder=dict(type='ReconDecoder', patch_size=16),
    recon_loss=dict(type='ReconLoss', loss_weight=1.0),
)

data_root = 'data/imagenet/'
train_pipeline = [
    dict(type='LoadImageFromFile'),
    # two global views, BYOL/VICReg-style photometric recipe
    dict(type='iBOTMultiCrop', global_size=224, num_local=0,
         global_scale=(0.08, 1.0), blur_probs=(1.0, 0.1, 0.0),
         solarize_probs=(0.0, 0.2, 0.0)),
    dict(type='PackInputs', algorithm_keys=['crop_params'],
         meta_keys=['img_path']),
]
train_dataloader = dict(
    batch_size=128,
    num_workers=10,
    persistent_workers=False,
    pin_memory=True,
    drop_last=True,
    worker_init_fn=dict(type='epoch_worker_init_fn'),
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='ImageNet', data_root=data_root, split='train',
                 pipeline=train_pipeline))

max_epochs = 100
warmup_epochs = 10
optim_wrapper = dict(
    type='SSLAmpOptimWrapper',
    dtype='bfloat16',
    loss_scale=dict(enabled=False),
    optimizer=dict(type='AdamW', lr=2e-3, betas=(0.9, 0.999),
                   weight_decay=0.05),
    clip_grad=dict(max_norm=3.0),
    constructor='SSLOptimWrapperConstructor',
    paramwise_cfg=dict(no_decay_1d=True,
                       no_decay_keys=('pos_embed', 'cls_token')))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-9, by_epoch=True, begin=0,
         end=warmup_epochs, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=1e-6, by_epoch=True,
         begin=warmup_epochs, end=max_epochs, convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
auto_scale_lr = dict(base_batch_size=1024)
custom_hooks = [
    dict(type='EpochSeedHook'),
    dict(type='ReconVisualizationHook', interval=2000, num_samples=4),
]
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50),
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=3))
vis_backends = [dict(type='LocalVisBackend'),
                dict(type='TensorboardVisBackend')]
visualizer = dict(type='UniversalVisualizer', vis_backends=vis_backends)
