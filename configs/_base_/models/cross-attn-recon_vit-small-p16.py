# Cross-attention reconstruction of one view, [X] (Wang, Krajsek, Scharr,
# arXiv 2412.03314; "cross_atten_recon" of AAAI-26 Table 1), on a ViT-S/16.
# Published in [X]: VICReg/SIE-style base, a 512-d embedding split 256
# invariant / 256 equivariant, a cross-attention block over the two views'
# equivariant features, one view reconstructed with an MSE loss.
# Not published, ours: the per-token form on a ViT (the projector and the
# split of VICReg + ours, vicreg-equi_vit-small-p16.py), v1 as the
# reconstructed view with queries from v2 and keys/values from v1, the
# CrossAttnReconDecoder widths and lambda = 1.
# The target is the view itself: plain normalised views
# (SelfSupDataPreprocessor), no g_theta and no intermediate targets.
d_equi = 256
model = dict(
    type='CrossAttnRecon',
    data_preprocessor=dict(
        type='SelfSupDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=False),  # iBOTMultiCrop emits RGB
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
    expander=dict(  # in_channels: 512 - d_equi, derived
        type='MLPNeck', hidden_channels=2048,
        out_channels=2048, num_layers=3, norm_cfg=dict(type='SyncBN'),
        act='ReLU'),
    loss=dict(type='VICRegLoss', sim_coeff=25.0, std_coeff=25.0,
              cov_coeff=1.0),
    d_equi=d_equi,
    recon_view=0,  # v1 (not published, ours)
    decoder=dict(type='CrossAttnReconDecoder', patch_size=16),
    recon_loss=dict(type='ReconLoss', loss_weight=1.0),
)
