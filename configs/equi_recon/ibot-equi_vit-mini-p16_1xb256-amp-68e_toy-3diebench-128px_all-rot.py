# iBOT + ours at the scale of the one-GPU experiment
# (tools/benchmarks/gpu_equivariance_experiment.sh, a few minutes on one
# H200): the demo's recipe (configs/ibot/ibot_vit-tiny-p16_1xb64-6e_toy-
# 3diebench-64px.py: teacher temperature 0.04, one render per sample,
# collapse monitor) with
# * a ViT of 192 dims, 6 layers, 3 heads ("mini"), patch 16, on 128 px
#   renders (8 x 8 tokens), 4 local crops of 64 px; drop path 0.1;
# * the head 192 -> 512 -> 512 -> 128 -> 1024 prototypes, d_equi = 256 (the
#   paper's 1/4), the decoders' default widths (16, 32, 32, 16);
# * batch 256, lr 5e-4 (iBOT's 5e-4 x 256 / 256), 68 epochs of 37 iterations
#   of the 128 px toy set's 9,600 training renders (~2,500 iterations), 5
#   warm-up epochs, teacher momentum 0.996 -> 1 (iBOT's), bf16 autocast;
# * the GPU data path: the renders decoded once into memory
#   (InMemoryDataset), the block masks in the loader workers, the multi-crop
#   batched on the device (BatchMultiCropDataPreprocessor); the CPU path
#   would need ~60 cores to keep up.
# Not run by us yet (no GPU was lent to the session that wrote it); it
# trains 2 iterations on CPU in tests/tools/test_gpu_experiment.py.
# Control arm: ibot-equi-ctrl_vit-mini-p16_1xb256-amp-68e_toy-3diebench-128px_all-rot.py
_base_ = ['./ibot-equi_vit-tiny-p16_1xb64-6e_toy-3diebench-64px_all-rot.py',
          '../_base_/datasets/toy-3diebench-128px_bs256_gpu.py']

img_size = 128
local_size = 64
num_local = 4
d_equi = 256
k_out = 1024
model = dict(
    backbone=dict(arch=dict(_delete_=True, embed_dims=192, num_layers=6,
                            num_heads=3, feedforward_channels=768),
                  img_size=img_size, drop_path_rate=0.1),
    neck=dict(in_channels=192, hidden_channels=512, bottleneck_channels=128,
              out_channels=k_out),
    loss=dict(num_local=num_local),  # sizes: k_out - d_equi, derived
    head=dict(d_equi=d_equi, decoder=dict(channels=(16, 32, 32, 16))),
    data_preprocessor=dict(
        _delete_=True,
        type='BatchMultiCropDataPreprocessor',
        multi_crop=dict(global_size=img_size, local_size=local_size,
                        num_local=num_local, global_scale=(0.25, 1.0),
                        local_scale=(0.05, 0.25)),
        # the method's preprocessor of the base config (InMemoryDataset
        # holds RGB, as iBOTMultiCrop emits: to_rgb=False)
        preprocessor={{_base_.model.data_preprocessor}}))
train_dataloader = {{_base_.toy128_gpu_train_dataloader}}

max_epochs = 68
warmup_epochs = 5
optim_wrapper = dict(type='SSLAmpOptimWrapper', dtype='bfloat16',
                     loss_scale=dict(enabled=False))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-9, by_epoch=True, begin=0,
         end=warmup_epochs, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=1e-6, by_epoch=True,
         begin=warmup_epochs, end=max_epochs, convert_to_iter_based=True),
    dict(type='CosineAnnealingWeightDecay', eta_min=0.4, by_epoch=True,
         begin=0, end=max_epochs, convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=max_epochs)
auto_scale_lr = dict(base_batch_size=256)
teacher_hook = dict(type='DistillationTeacherHook', momentum=0.996,
                    end_momentum=1.0, teacher_temp=0.04,
                    warmup_teacher_temp=0.04, warmup_epochs=1)
# the demo's collapse monitor (configs/_base_/schedules/
# toy-3diebench_adamw-coslr-6e_ibot.py: warns after 50 iterations in a row of
# a uniform or single-prototype teacher output)
collapse_hook = dict(type='CollapseMonitorHook', uniform_threshold=0.9,
                     min_protos=2.0, patience=50)
# the control arm runs these alone
ibot_hooks = [dict(type='EpochSeedHook'), teacher_hook, collapse_hook]
custom_hooks = ibot_hooks + [
    dict(type='ReconVisualizationHook', interval=100000, num_samples=4),
]
# different θ draws and crops on every rank (they are drawn on the device)
randomness = dict(diff_rank_seed=True)
default_hooks = dict(logger=dict(type='LoggerHook', interval=50),
                     checkpoint=dict(type='CheckpointHook',
                                     interval=max_epochs, max_keep_ckpts=1))
