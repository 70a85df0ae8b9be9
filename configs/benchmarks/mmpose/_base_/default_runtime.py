# mmpose runtime for the keypoint transfer benchmarks (modelled on mmpose
# 1.3.2's configs/_base_/default_runtime.py; written for mmequi) on
# ../../_base_/dense_runtime.py.
_base_ = ['../../_base_/dense_runtime.py']

default_scope = 'mmpose'

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # a config sets save_best to its metric ('coco/AP' resp. 'PCK')
    checkpoint=dict(type='CheckpointHook', interval=4, max_keep_ckpts=1,
                    rule='greater'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='PoseVisualizationHook', enable=False))
# the deconvolution head has BatchNorm: average its running statistics over
# the processes at the end of every epoch (as upstream)
custom_hooks = [dict(type='SyncBuffersHook')]

randomness = dict(seed=0, deterministic=False)
visualizer = dict(type='PoseLocalVisualizer')
log_processor = dict(
    type='LogProcessor', window_size=50, by_epoch=True, num_digits=6)
backend_args = dict(backend='local')
val_cfg = dict()
test_cfg = dict()
