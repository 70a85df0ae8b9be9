# The demo's iBOT: a small ViT (128 dims, 4 layers, 4 heads, patch 16) on the
# embedded toy 3DIEBench (64 px renders; two renders of one object per
# sample, as SIE), fp32, ~2 CPU minutes. `make demo` pretrains it and
# configs/equi_recon/ibot-equi_vit-tiny-p16_1xb64-5e_toy-3diebench-64px_all-rot.py
# side by side, then probes both (configs/benchmarks/equivariance/).
#   python tools/dataset_converters/make_toy_3diebench.py --out data/toy_3diebench
#   python tools/train.py configs/ibot/ibot_vit-tiny-p16_1xb64-5e_toy-3diebench-64px.py
_base_ = ['./ibot_vit-tiny-p16_1xb8-4e_toy-shapes-64px.py',
          '../_base_/datasets/three_die_bench.py',
          '../_base_/models/toy_vit.py']

model = dict(
    backbone=dict(arch={{_base_.toy_vit_arch}}),
    neck=dict(in_channels={{_base_.toy_vit_dims}}),
    loss=dict(num_local={{_base_.toy_die_num_local}}))
train_dataloader = {{_base_.toy_die_ibot_train_dataloader}}

max_epochs = 5
warmup_epochs = 1
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-9, by_epoch=True, begin=0,
         end=warmup_epochs, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=1e-6, by_epoch=True,
         begin=warmup_epochs, end=max_epochs, convert_to_iter_based=True),
    dict(type='CosineAnnealingWeightDecay', eta_min=0.4, by_epoch=True,
         begin=0, end=max_epochs, convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=max_epochs)
auto_scale_lr = dict(base_batch_size=64)
custom_hooks = [
    dict(type='EpochSeedHook'),
    # a few hundred iterations only: teacher momentum 0.99 (not 0.996), so
    # that the EMA teacher (what the probes evaluate) follows the student
    dict(type='DistillationTeacherHook', momentum=0.99, end_momentum=1.0,
         teacher_temp=0.07, warmup_teacher_temp=0.04, warmup_epochs=2),
]
default_hooks = dict(logger=dict(type='LoggerHook', interval=10),
                     checkpoint=dict(type='CheckpointHook', interval=5,
                                     max_keep_ckpts=1))
