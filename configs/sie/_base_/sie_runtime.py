# Runtime of the SIE ViT configs: the VICReg + ours ImageNet runtime
# (../../equi_recon/_base_/vicreg-equi_runtime.py) less its reconstruction
# grid (SIE reconstructs nothing).
_base_ = ['../../_base_/default_runtime.py']

custom_hooks = [dict(type='EpochSeedHook')]
vis_backends = [dict(type='LocalVisBackend'),
                dict(type='TensorboardVisBackend')]
visualizer = dict(vis_backends=vis_backends)
