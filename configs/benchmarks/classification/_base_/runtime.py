# Runtime of the classification transfer configs: configs/_base_/
# default_runtime.py without default_scope / custom_imports, which the
# dataset base configs set (mmengine refuses a key defined in two sibling
# bases). tests/configs/test_classification_configs.py checks that every
# other key equals default_runtime.py's.
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=3),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='VisualizationHook', enable=False),
)
# epoch-wise reseeding (see README, "Seeds and determinism"); dataloaders
# use worker_init_fn=dict(type='epoch_worker_init_fn')
custom_hooks = [dict(type='EpochSeedHook')]

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    # nccl on GPUs; mmequi switches to gloo when there is no CUDA device.
    dist_cfg=dict(backend='nccl'),
)
randomness = dict(seed=0, deterministic=False)

vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='UniversalVisualizer', vis_backends=vis_backends)
log_level = 'INFO'
log_processor = dict(window_size=10)
load_from = None
resume = False
