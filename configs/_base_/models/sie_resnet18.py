# SIE (Garrido, Najman and LeCun, ICML 2023), conditioned on the relative
# rotation, with a ResNet-18: 512-d representation split 256 invariant / 256
# equivariant. Every number and its source: configs/sie/README.md.
d_inv = 256  # y[:, :256] invariant, y[:, 256:] equivariant
repr_dims = 512  # ResNet-18
proj_dims = 1024  # our choice (README): width of each projector
condition = 'rot'  # g = rot_quat (x, y, z, w), w >= 0
group_dims = 4

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
sync_bn = 'torch'  # BN statistics over the global batch when distributed
