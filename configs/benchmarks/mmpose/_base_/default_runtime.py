# mmpose runtime for the keypoint transfer benchmarks (modelled on mmpose
# 1.3.2's configs/_base_/default_runtime.py; written for mmequi).
default_scope = 'mmpose'
custom_imports = dict(imports=['mmequi'], allow_failed_imports=False)

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

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    # nccl on GPUs; mmequi switches to gloo when there is no GPU
    dist_cfg=dict(backend='nccl'),
)
randomness = dict(seed=0, deterministic=False)
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(
    type='PoseLocalVisualizer', vis_backends=vis_backends, name='visualizer')
log_processor = dict(
    type='LogProcessor', window_size=50, by_epoch=True, num_digits=6)
log_level = 'INFO'
load_from = None
resume = False
backend_args = dict(backend='local')
val_cfg = dict()
test_cfg = dict()
