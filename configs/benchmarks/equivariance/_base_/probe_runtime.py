# Runtime and schedule of the frozen-feature probes: Adam, lr 1e-3,
# constant (SIE's probe recipe, Garrido et al. ICML 2023), fp32, validation
# on held-out data at the end. The backbone is frozen inside
# EquivarianceProbe, so only the heads are trained.
_base_ = ['../../../_base_/default_runtime.py']

probe_epochs = 300
optim_wrapper = dict(type='OptimWrapper',
                     optimizer=dict(type='Adam', lr=1e-3))
param_scheduler = []  # constant lr
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=probe_epochs,
                 val_interval=probe_epochs)
val_cfg = dict()
test_cfg = dict()
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50),
    checkpoint=dict(type='CheckpointHook', interval=probe_epochs,
                    max_keep_ckpts=1))

# loaders; a config adds dataset=dict(...) (test = val: held-out data)
train_dataloader = dict(
    # persistent_workers=False: exact --resume needs fresh workers (README)
    batch_size=256, num_workers=8, persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=True),
    worker_init_fn=dict(type='epoch_worker_init_fn'),
    collate_fn=dict(type='default_collate'))
val_dataloader = dict(
    batch_size=256, num_workers=8, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'))
test_dataloader = val_dataloader

# heads (EquivarianceProbe fills in in_channels; tasks give out_channels):
# the MLP of SIE's probes, 2d -> 1024 -> 1024 -> out, ReLU, no norm
mlp_probe = dict(type='MLPNeck', hidden_channels=1024, num_layers=3,
                 norm_cfg=None, act='ReLU')
linear_probe = dict(type='MLPNeck', hidden_channels=1, num_layers=1,
                    norm_cfg=None)
