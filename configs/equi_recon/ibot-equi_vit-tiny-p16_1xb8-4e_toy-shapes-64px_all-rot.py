# A tiny iBOT + ours for tests and smoke runs: the tiny iBOT config
# (configs/ibot/ibot_vit-tiny-p16_1xb8-4e_toy-shapes-64px.py) + the method
# with rotation targets.
_base_ = ['../ibot/ibot_vit-tiny-p16_1xb8-4e_toy-shapes-64px.py']

d_equi = 64  # of the tiny head's 256 outputs
model = dict(
    type='iBOTEquiRecon',
    data_preprocessor=dict(
        type='EquiReconDataPreprocessor',
        # paper ranges are each family's defaults, so the type alone
        # switches the target: --cfg-options
        #   model.data_preprocessor.transform.type=color|blur|translation|se2
        transform=dict(type='rotation'),
        num_intermediate=2),
    loss=dict(out_dim=256 - d_equi, patch_out_dim=256 - d_equi),
    d_equi=d_equi,
    num_intermediate=2,
    decoder=dict(type='ReconDecoder', patch_size=16),
    recon_loss=dict(type='ReconLoss', loss_weight=1.0))
custom_hooks = [
    dict(type='EpochSeedHook'),
    dict(type='DistillationTeacherHook', momentum=0.996, end_momentum=1.0,
         teacher_temp=0.07, warmup_teacher_temp=0.04, warmup_epochs=2),
    dict(type='ReconVisualizationHook', interval=4, num_samples=2),
]
