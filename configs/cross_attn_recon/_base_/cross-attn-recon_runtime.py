# Runtime of the cross-attention reconstruction configs:
# ../../_base_/default_runtime.py with per-epoch augmentation seeds and
# TensorBoard logging (no ReconVisualizationHook: it draws intermediate
# targets, which this model has none of).
_base_ = ['../../_base_/default_runtime.py']

custom_hooks = [dict(type='EpochSeedHook')]
vis_backends = [dict(type='LocalVisBackend'),
                dict(type='TensorboardVisBackend')]
visualizer = dict(vis_backends=vis_backends)
