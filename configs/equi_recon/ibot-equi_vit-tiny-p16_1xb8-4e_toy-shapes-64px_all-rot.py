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
        num_intermediate=2,
        theta_source='device'),
    # out_dim / patch_out_dim: 256 - d_equi, derived (None replaces 256)
    loss=dict(out_dim=None, patch_out_dim=None),
    head=dict(
        type='EquiReconHead',
        d_equi=d_equi,
        decoder=dict(type='ReconDecoder', patch_size=16),
        loss=dict(type='ReconLoss', loss_weight=1.0)))
custom_hooks = [
    dict(type='EpochSeedHook'),
    dict(type='DistillationTeacherHook', momentum=0.996, end_momentum=1.0,
         teacher_temp=0.07, warmup_teacher_temp=0.04, warmup_epochs=2),
    dict(type='ReconVisualizationHook', interval=4, num_samples=2),
]
