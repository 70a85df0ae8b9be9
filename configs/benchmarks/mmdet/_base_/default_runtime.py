# mmdet runtime for the dense transfer benchmarks (modelled on mmdet 3.3.0's
# configs/_base_/default_runtime.py). mmequi is imported by custom_imports:
# it installs the mmcv op backend (Mask R-CNN calls nms and roi_align) and
# registers SimpleFPN, LN2d and ViTLayerDecayOptimWrapperConstructor in mmdet.
default_scope = 'mmdet'
custom_imports = dict(imports=['mmequi'], allow_failed_imports=False)

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # every epoch (an epoch of ViT-L is hours: resumable after preemption);
    # the last two are kept
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=2),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='DetVisualizationHook'))

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    # nccl on GPUs; mmequi switches to gloo when there is no GPU
    dist_cfg=dict(backend='nccl'),
)

vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(
    type='DetLocalVisualizer', vis_backends=vis_backends, name='visualizer')
log_processor = dict(type='LogProcessor', window_size=50, by_epoch=True)

log_level = 'INFO'
load_from = None
resume = False
