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
# The VICReg parts (ViT, projector, expander, loss) are those of VICReg +
# ours, taken from its model file; its head and preprocessor are dropped.
_base_ = ['./vicreg-equi_vit-small-p16.py']

model = dict(
    _delete_=True,  # VICReg + ours' head and EquiReconDataPreprocessor
    type='CrossAttnRecon',
    data_preprocessor=dict(
        type='SelfSupDataPreprocessor',
        mean={{_base_.model.data_preprocessor.mean}},
        std={{_base_.model.data_preprocessor.std}},
        to_rgb=False),  # iBOTMultiCrop emits RGB
    backbone={{_base_.model.backbone}},
    projector={{_base_.model.projector}},  # 512-d
    expander={{_base_.model.expander}},  # in_channels: 512 - d_equi
    loss={{_base_.model.loss}},
    d_equi={{_base_.d_equi}},  # 256 of 512
    recon_view=0,  # v1 (not published, ours)
    decoder=dict(type='CrossAttnReconDecoder', patch_size=16),
    recon_loss=dict(type='ReconLoss', loss_weight=1.0),
)
