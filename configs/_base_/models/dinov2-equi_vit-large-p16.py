# DINOv2 + ours (equivariance-coherent reconstruction), ViT-L/16 ([P],
# Tables 4-8): the DINOv2 model of dinov2_vit-large-p16.py plus the method,
# with rotation targets. [P]: d_equi = 512 of the 2048-d head; the decoder
# and the reconstruction loss are those of ibot-equi_vit-small-p16.py.
_base_ = ['./dinov2_vit-large-p16.py']

d_equi = 512  # of the 2048 head outputs ([P])
num_intermediate = 2  # K targets at θ/3 and 2θ/3 ([P]: K = 2 is best)
model = dict(
    type='DINOv2EquiRecon',
    data_preprocessor=dict(
        type='EquiReconDataPreprocessor',
        # g_θ on the second global view, θ per sample on the device
        transform=dict(type='rotation', max_angle=45.0),
        num_intermediate=num_intermediate,
        view_index=1),
    # the DINOv2 losses see the first 2048 - d_equi dims (derived)
    loss=dict(out_dim=None, patch_out_dim=None),
    head=dict(
        type='EquiReconHead',
        d_equi=d_equi,
        decoder=dict(type='ReconDecoder', patch_size=16),
        loss=dict(type='ReconLoss', loss_weight=1.0)),  # λ = 1
)
