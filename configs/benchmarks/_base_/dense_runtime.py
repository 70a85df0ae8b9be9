# The toolbox-neutral runtime of the dense transfer benchmarks: each
# toolbox's _base_/default_runtime.py (mmdet, mmseg, mmpose) inherits it and
# sets its scope, hooks, log processor and visualizer type. mmequi is
# imported by custom_imports (op backend, registrations in the toolbox).
custom_imports = dict(imports=['mmequi'], allow_failed_imports=False)

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    # nccl on GPUs; mmequi switches to gloo when there is no GPU
    dist_cfg=dict(backend='nccl'),
)
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(vis_backends=vis_backends, name='visualizer')
log_level = 'INFO'
load_from = None
resume = False
