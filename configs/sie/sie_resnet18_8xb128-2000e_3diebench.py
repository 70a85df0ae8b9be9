# SIE (Garrido, Najman and LeCun, ICML 2023), conditioned on the relative
# rotation, ResNet-18 on 3DIEBench: 2000 epochs, total batch 1024 (8 GPUs x
# 128), Adam lr 1e-3, 512-d representation split 256 invariant / 256
# equivariant. Every number and its source: configs/sie/README.md.
_base_ = ['../_base_/default_runtime.py']

d_inv = 256  # y[:, :256] invariant, y[:, 256:] equivariant
repr_dims = 512  # ResNet-18
proj_dims = 1024  # our choice (README): width of each projector
condition = 'rot'  # g = rot_quat (x, y, z, w), w >= 0
group_dims = 4
img_size = 256  # 3DIEBench renders are 256 x 256 (no resizing)

model = dict(
    type='SIE',
    data_preprocessor=dict(
        type='SelfSupDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=True),  # LoadViews loads BGR
    # torchvision-style ResNet-18: 7x7 stride-2 stem + max-pool; use
    # type='ResNet_CIFAR' for a 3x3 stride-1 stem without max-pool
    backbone=dict(type='ResNet', depth=18, out_indices=(3, ),
                  style='pytorch', zero_init_residual=False),
    neck=dict(type='GlobalAveragePooling'),
    inv_projector=dict(
        type='MLPNeck', in_channels=d_inv, hidden_channels=proj_dims,
        out_channels=proj_dims, num_layers=3, norm_cfg=dict(type='BN1d'),
        act='ReLU'),
    equi_projector=dict(
        type='MLPNeck', in_channels=repr_dims - d_inv,
        hidden_channels=proj_dims, out_channels=proj_dims, num_layers=3,
        norm_cfg=dict(type='BN1d'), act='ReLU'),
    predictor=dict(
        type='HypernetPredictor', group_dims=group_dims,
        embed_dims=proj_dims, hidden_channels=64, num_layers=2, bias=False,
        norm_cfg=None, act='ReLU'),
    loss=dict(type='SIELoss', inv_coeff=25.0, equi_coeff=25.0,
              std_coeff=25.0, cov_coeff=1.0, var_on_pred=True),
    d_inv=d_inv,
    condition=condition,
)

data_root = 'data/3DIEBench'
# no augmentation: the two views are two renders of one object (README)
train_pipeline = [
    dict(type='LoadViews'),
    dict(type='ApplyToViews',
         transforms=[dict(type='Resize', scale=(img_size, img_size))]),
    dict(type='PackInputs', algorithm_keys=['rot_quat', 'color_diff'],
         meta_keys=['img_path', 'view_ids', 'object_path']),
]
train_dataloader = dict(
    batch_size=128,
    num_workers=10,
    persistent_workers=True,
    pin_memory=True,
    drop_last=True,
    worker_init_fn=dict(type='epoch_worker_init_fn'),
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='ThreeDIEBench', data_root=data_root, split='train',
                 mode='pretrain', num_views=50, pipeline=train_pipeline))

max_epochs = 2000
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=1e-3, betas=(0.9, 0.999),
                   weight_decay=0.0))
# constant learning rate (no schedule): our choice, see README
param_scheduler = []
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
auto_scale_lr = dict(base_batch_size=1024)
sync_bn = 'torch'  # BN statistics over the global batch when distributed
custom_hooks = [dict(type='EpochSeedHook')]
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10),
    checkpoint=dict(type='CheckpointHook', interval=10, max_keep_ckpts=3))
