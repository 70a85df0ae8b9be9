# iBOT + ours (equivariance-coherent reconstruction), ViT-S/16: the iBOT
# model of ibot_vit-small-p16.py plus the method, with rotation targets.
# The method's settings live here (and in the few configs that vary them):
# the head (d_equi, decoder, reconstruction loss), and on the data
# preprocessor -- their one source -- the transform, K and view_index.
_base_ = ['./ibot_vit-small-p16.py']

d_equi = 2048  # of the 8192 head outputs (paper default; searched 256-4096)
num_intermediate = 2  # K targets at θ/3 and 2θ/3
model = dict(
    type='iBOTEquiRecon',
    data_preprocessor=dict(
        type='EquiReconDataPreprocessor',
        # g_θ on the second global view; θ drawn per sample on the device
        # and recorded in each data sample as `equi_theta`
        transform=dict(type='rotation', max_angle=45.0),
        num_intermediate=num_intermediate,
        view_index=1),
    # the iBOT losses see the first 8192 - d_equi dims: derived from the
    # neck and head.d_equi (None replaces the iBOT config's 8192)
    loss=dict(out_dim=None, patch_out_dim=None),
    # K and view_index: the data preprocessor's
    head=dict(
        type='EquiReconHead',
        d_equi=d_equi,
        decoder=dict(type='ReconDecoder', patch_size=16),
        loss=dict(type='ReconLoss', loss_weight=1.0)),  # λ = 1
)
