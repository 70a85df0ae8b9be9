# mmdet runtime for the dense transfer benchmarks (modelled on mmdet 3.3.0's
# configs/_base_/default_runtime.py) on ../../_base_/dense_runtime.py. mmequi
# (custom_imports there) installs the mmcv op backend (Mask R-CNN calls nms
# and roi_align) and registers SimpleFPN, LN2d and
# ViTLayerDecayOptimWrapperConstructor in mmdet.
_base_ = ['../../_base_/dense_runtime.py']

default_scope = 'mmdet'

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # every epoch (an epoch of ViT-L is hours: resumable after preemption);
    # the last two are kept
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=2),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='DetVisualizationHook'))

visualizer = dict(type='DetLocalVisualizer')
log_processor = dict(type='LogProcessor', window_size=50, by_epoch=True)
