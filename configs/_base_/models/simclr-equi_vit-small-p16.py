# SimCLR + ours, ViT-S/16 (paper Table 4 row "SimCLR + ours"; Wang et al.,
# AAAI-26, arXiv 2503.18753). The paper gives no split for SimCLR; ours, not
# published: VICReg + ours' even split of a 512-d token embedding -- the first
# 256 dims of [CLS] are SimCLR's contrastive embedding (NT-Xent, τ = 0.1,
# negatives gathered over all GPUs), the last 256 dims of the patch tokens of
# both views feed the K = 2 reconstruction decoders. The projector's output
# is the contrastive embedding itself (no expander, as SimCLR).
# The method's settings live here: the head (d_equi, decoder, reconstruction
# loss), and on the data preprocessor -- their one source -- the transform, K
# and view_index.
d_equi = 256
num_intermediate = 2
model = dict(
    type='SimCLREquiRecon',
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
    loss=dict(type='InfoNCELoss', temperature=0.1, gather=True),
    # K and view_index: the data preprocessor's
    head=dict(
        type='EquiReconHead',
        d_equi=d_equi,
        decoder=dict(type='ReconDecoder', patch_size=16),
        loss=dict(type='ReconLoss', loss_weight=1.0)),
)
