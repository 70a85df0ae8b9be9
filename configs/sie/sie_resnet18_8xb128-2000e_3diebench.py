# SIE (Garrido, Najman and LeCun, ICML 2023), conditioned on the relative
# rotation, ResNet-18 on 3DIEBench: 2000 epochs, total batch 1024 (8 GPUs x
# 128), Adam lr 1e-3, 512-d representation split 256 invariant / 256
# equivariant. Every number and its source: configs/sie/README.md.
_base_ = ['../_base_/models/sie_resnet18.py',
          '../_base_/datasets/3diebench_bs128_sie.py',
          '../_base_/schedules/3diebench_bs1024_adam-2000e_sie.py',
          '../_base_/default_runtime.py']

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10),
    checkpoint=dict(type='CheckpointHook', interval=10, max_keep_ckpts=3))
