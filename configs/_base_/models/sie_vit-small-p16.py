# SIE (Garrido, Najman and LeCun, ICML 2023) on ViT-S/16, conditioned on the
# θ of the paper's synthetic transformation g_θ (Wang et al., AAAI-26, arXiv
# 2503.18753, Table 1 rows "SIE(rot|color|blur|trans|all)"). Every value
# that VICReg + ours (./vicreg-equi_vit-small-p16.py) also has is the same
# here, so the two differ in the method only:
#   same: data preprocessor (mean/std, g_θ on view 2, its ranges), backbone
#     (deit-small, drop path 0.1), the 384 -> 2048 -> 512 projector (LN,
#     GELU), the even 256/256 split of the 512-d embedding ([S]/[X]), the
#     invariant branch = VICReg + ours' expander (256 -> 2048 x 3, SyncBN,
#     ReLU), the VICReg coefficients 25 / 25 / 1.
#   SIE instead of "+ ours": only the [CLS] token (out_type='cls_token',
#     after the final LayerNorm), no decoders and no intermediate targets
#     (num_intermediate=0); the equivariant 256 dims go through h_equi to a
#     hypernetwork predictor W(g) conditioned on g = θ rescaled to [-1, 1].
# Not published, ours: [CLS] pooling (out_type='avg_featmap' gives the mean
# of the patch tokens), h_equi 256 -> 1024 -> 1024 -> 1024 (1024 as our
# ResNet-18 SIE: the hypernetwork's last layer has 64 x 1024² weights),
# hypernetwork 64 hidden, no bias, λ_equi = 25, variance on the prediction.
d_inv = 256  # of the 512-d embedding: y[:, :256] invariant, y[:, 256:] equi
embed_dims = 512
equi_dims = 1024  # our choice (configs/sie/README.md)
model = dict(
    type='SIE',
    data_preprocessor=dict(
        type='EquiReconDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=False,  # iBOTMultiCrop emits RGB
        transform=dict(type='rotation', max_angle=45.0),
        num_intermediate=0,  # SIE needs v2 = g_θ(u) and θ only
        view_index=1),
    backbone=dict(
        type='VisionTransformer',
        arch='deit-small',
        img_size=224,
        patch_size=16,
        drop_path_rate=0.1,
        out_type='cls_token'),
    neck=None,
    projector=dict(
        type='MLPNeck', in_channels=384, hidden_channels=2048,
        out_channels=embed_dims, num_layers=2, norm_cfg=dict(type='LN'),
        act='GELU'),
    inv_projector=dict(
        type='MLPNeck', in_channels=d_inv, hidden_channels=2048,
        out_channels=2048, num_layers=3, norm_cfg=dict(type='SyncBN'),
        act='ReLU'),
    equi_projector=dict(
        type='MLPNeck', in_channels=embed_dims - d_inv,
        hidden_channels=equi_dims, out_channels=equi_dims, num_layers=3,
        norm_cfg=dict(type='SyncBN'), act='ReLU'),
    # group_dims: the transform's θ dim, derived by SIE
    predictor=dict(
        type='HypernetPredictor', embed_dims=equi_dims, hidden_channels=64,
        num_layers=2, bias=False, norm_cfg=None, act='ReLU'),
    loss=dict(type='SIELoss', inv_coeff=25.0, equi_coeff=25.0,
              std_coeff=25.0, cov_coeff=1.0, var_on_pred=True),
    d_inv=d_inv,
    condition='theta',
)
