# The demo's iBOT + ours: configs/ibot/ibot_vit-tiny-p16_1xb64-6e_toy-3diebench-64px.py
# (same ViT, data, schedule and seed) + the method with rotation targets:
# g_θ (φ ~ U(-45°, 45°)) on the second global view, K = 2 intermediate
# targets, d_equi = 64 of the head's 256 outputs (the paper's 1/4),
# λ = 1. The decoders are thinner than the ImageNet default
# (channels 8/16/16/8 instead of 16/32/32/16) to keep the CPU demo short.
# Its control arm (the same config with d_equi = 0, same views and g_θ):
# ibot-equi-ctrl_vit-tiny-p16_1xb64-6e_toy-3diebench-64px_all-rot.py.
_base_ = ['../ibot/ibot_vit-tiny-p16_1xb64-6e_toy-3diebench-64px.py']

d_equi = 64
num_intermediate = 2
model = dict(
    type='iBOTEquiRecon',
    data_preprocessor=dict(
        type='EquiReconDataPreprocessor',
        # the paper's ranges are each family's defaults, so the type alone
        # switches the target: --cfg-options
        #   model.data_preprocessor.transform.type=color|blur|translation|se2
        transform=dict(type='rotation', max_angle=45.0),
        num_intermediate=num_intermediate,
        view_index=1),
    loss=dict(out_dim=256 - d_equi, patch_out_dim=256 - d_equi),
    d_equi=d_equi,
    num_intermediate=num_intermediate,
    view_index=1,
    decoder=dict(type='ReconDecoder', patch_size=16, channels=(8, 16, 16, 8)),
    recon_loss=dict(type='ReconLoss', loss_weight=1.0))
custom_hooks = [
    dict(type='EpochSeedHook'),
    {{_base_.teacher_hook}},
    {{_base_.collapse_hook}},
    # one grid u | û_1 | u_1 | û_2 | u_2 | v2 after the last iteration (the
    # hook leaves the run unchanged: own RNG, copies of the data samples)
    dict(type='ReconVisualizationHook', interval=10000, num_samples=4),
]
