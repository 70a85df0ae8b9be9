# mmseg runtime for the dense transfer benchmarks (modelled on mmseg 1.2.2's
# configs/_base_/default_runtime.py; iteration-based logging) on
# ../../_base_/dense_runtime.py.
_base_ = ['../../_base_/dense_runtime.py']

default_scope = 'mmseg'
env_cfg = dict(cudnn_benchmark=True)
visualizer = dict(type='SegLocalVisualizer')
log_processor = dict(by_epoch=False)
