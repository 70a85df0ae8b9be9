# Runtime shared by mmequi's mmpretrain-scope configs.
default_scope = 'mmpretrain'
custom_imports = dict(imports=['mmequi'], allow_failed_imports=False)

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=3),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='VisualizationHook', enable=False),
)
# Reseed python/numpy/torch at every epoch from (seed, epoch, rank) so that
# epoch k draws the same augmentations with or without --resume; dataloaders
# use worker_init_fn=dict(type='epoch_worker_init_fn') (see README,
# "Seeds and determinism").
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
