# mmseg runtime for the dense transfer benchmarks (modelled on mmseg 1.2.2's
# configs/_base_/default_runtime.py; iteration-based logging).
default_scope = 'mmseg'
custom_imports = dict(imports=['mmequi'], allow_failed_imports=False)

env_cfg = dict(
    cudnn_benchmark=True,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    # nccl on GPUs; mmequi switches to gloo when there is no GPU
    dist_cfg=dict(backend='nccl'),
)
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(
    type='SegLocalVisualizer', vis_backends=vis_backends, name='visualizer')
log_processor = dict(by_epoch=False)
log_level = 'INFO'
load_from = None
resume = False
