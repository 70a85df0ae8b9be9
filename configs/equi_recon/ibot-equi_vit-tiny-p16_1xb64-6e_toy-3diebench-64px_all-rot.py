# The demo's iBOT + ours: configs/ibot/ibot_vit-tiny-p16_1xb64-6e_toy-3diebench-64px.py
# (same ViT, data, schedule and seed) + the method of
# configs/_base_/models/ibot-equi_vit-small-p16.py with rotation targets:
# g_θ (φ ~ U(-45°, 45°)) on the second global view, K = 2 intermediate
# targets, d_equi = 64 of the head's 256 outputs (the paper's 1/4),
# λ = 1. The decoders are thinner than the ImageNet default
# (channels 8/16/16/8 instead of 16/32/32/16) to keep the CPU demo short.
# Its control arm (the same config with d_equi = 0, same views and g_θ):
# ibot-equi-ctrl_vit-tiny-p16_1xb64-6e_toy-3diebench-64px_all-rot.py.
_base_ = ['../_base_/models/ibot-equi_vit-small-p16.py',
          # its loader is replaced by the 3DIEBench one below
          '../_base_/datasets/toy-shapes-64px_bs8_ibot.py',
          '../_base_/datasets/three_die_bench.py',
          '../_base_/models/toy_vit.py',
          '../_base_/schedules/toy-3diebench_adamw-coslr-6e_ibot.py']

d_equi = 64
model = dict(
    backbone=dict(arch={{_base_.toy_vit_arch_override}}, img_size=64),
    neck=dict(in_channels={{_base_.toy_vit_dims}}, hidden_channels=128,
              bottleneck_channels=32, out_channels=256),
    # out_dim / patch_out_dim: 256 - d_equi, derived
    loss=dict(num_local={{_base_.toy_die_num_local}}),
    head=dict(d_equi=d_equi, decoder=dict(channels=(8, 16, 16, 8))))
train_dataloader = {{_base_.toy_die_single_ibot_train_dataloader}}
# the demo iBOT's hooks (the schedule's); the control arm runs these alone
ibot_hooks = [dict(type='EpochSeedHook'), {{_base_.teacher_hook}},
              {{_base_.collapse_hook}}]
custom_hooks = ibot_hooks + [
    # one grid u | û_1 | u_1 | û_2 | u_2 | v2 after the last iteration (the
    # hook leaves the run unchanged: own RNG, copies of the data samples)
    dict(type='ReconVisualizationHook', interval=10000, num_samples=4),
]
