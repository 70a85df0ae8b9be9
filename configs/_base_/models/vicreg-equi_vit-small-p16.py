# VICReg + ours, ViT-S/16 (paper Table 1 rows "Ours(VICReg, aug, target)"):
# SIE-style even split of a 512-d token embedding -- the first 256 dims of
# [CLS] feed the VICReg loss (through an expander), the last 256 dims of the
# patch tokens of both views feed the K = 2 reconstruction decoders.
# The method's settings live here for VICReg: the head (d_equi, decoder,
# reconstruction loss), and on the data preprocessor -- their one source --
# the transform, K and view_index.
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
    expander=dict(  # in_channels: 512 - d_equi, derived
        type='MLPNeck', hidden_channels=2048,
        out_channels=2048, num_layers=3, norm_cfg=dict(type='SyncBN'),
        act='ReLU'),
    loss=dict(type='VICRegLoss', sim_coeff=25.0, std_coeff=25.0,
              cov_coeff=1.0),
    # K and view_index: the data preprocessor's
    head=dict(
        type='EquiReconHead',
        d_equi=d_equi,
        decoder=dict(type='ReconDecoder', patch_size=16),
        loss=dict(type='ReconLoss', loss_weight=1.0)),
)
