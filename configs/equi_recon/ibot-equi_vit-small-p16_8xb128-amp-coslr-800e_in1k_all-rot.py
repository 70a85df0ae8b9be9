# iBOT + ours, ViT-S/16, ImageNet-1k, 800 epochs (paper row "Ours(iBOT, all,
# rot)"): the full iBOT augmentation ("all"), targets = intermediate
# rotations. Everything else is the iBOT recipe of
# configs/ibot/ibot_vit-small-p16_8xb128-amp-coslr-800e_in1k.py.
_base_ = ['../ibot/ibot_vit-small-p16_8xb128-amp-coslr-800e_in1k.py']

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
    # the iBOT losses see the first 8192 - d_equi dims
    loss=dict(out_dim=8192 - d_equi, patch_out_dim=8192 - d_equi),
    d_equi=d_equi,
    num_intermediate=num_intermediate,
    view_index=1,
    decoder=dict(type='ReconDecoder', patch_size=16),
    recon_loss=dict(type='ReconLoss', loss_weight=1.0),  # λ = 1
)

custom_hooks = [
    dict(type='EpochSeedHook'),
    dict(type='DistillationTeacherHook',
         momentum=0.996, end_momentum=1.0,
         teacher_temp=0.07, warmup_teacher_temp=0.04,
         teacher_patch_temp=0.07, warmup_teacher_patch_temp=0.04,
         warmup_epochs=30),
    dict(type='CollapseMonitorHook'),
    dict(type='ReconVisualizationHook', interval=2000, num_samples=4),
]
vis_backends = [dict(type='LocalVisBackend'),
                dict(type='TensorboardVisBackend')]
visualizer = dict(type='UniversalVisualizer', vis_backends=vis_backends)
