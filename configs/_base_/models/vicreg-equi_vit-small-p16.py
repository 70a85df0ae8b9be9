# VICReg + ours, ViT-S/16 (paper Table 1 rows "Ours(VICReg, aug, target)"):
# SIE-style even split of a 512-d token embedding -- the first 256 dims of
# [CLS] feed the VICReg loss (through an expander), the last 256 dims of the
# patch tokens of both views feed the K = 2 reconstruction decoders.
# The method's settings (d_equi, num_intermediate, view_index, decoder,
# recon_loss, transform / theta_source) live here for VICReg.
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
        view_index=1,
        theta_source='device'),
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
