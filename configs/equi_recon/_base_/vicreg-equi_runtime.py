# Runtime of the VICReg + ours ImageNet configs: ../../_base_/default_runtime.py
# with the reconstruction grid (ReconVisualizationHook: targets and decoder
# outputs every 2000 iterations) and TensorBoard logging.
_base_ = ['../../_base_/default_runtime.py']

custom_hooks = [
    dict(type='EpochSeedHook'),
    dict(type='ReconVisualizationHook', interval=2000, num_samples=4),
]
vis_backends = [dict(type='LocalVisBackend'),
                dict(type='TensorboardVisBackend')]
visualizer = dict(vis_backends=vis_backends)
