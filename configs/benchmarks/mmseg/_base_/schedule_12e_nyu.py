# 12 epochs of NYU-Depth-v2 (the dense-transfer protocol of Wang et al.
# AAAI-26) on the ADE20K configs' schedule (schedule_12e.py: AdamW with
# layer-wise decay, linear warm-up over 1500 iters, then poly to 0), with
# NYU's iteration counts: 24231 training frames at 8 GPUs x 2 images is
# ceil(24231 / 16) = 1515 iters per epoch, 12 epochs = 18180 iters. With
# another total batch size B set train_cfg.max_iters=12*ceil(24231/B) (and
# param_scheduler.1.end to it).
_base_ = ['schedule_12e.py']

num_train_images = 24231
total_batch_size = 16  # 8 GPUs x 2
iters_per_epoch = -(-num_train_images // total_batch_size)  # ceil: 1515
max_iters = 12 * iters_per_epoch  # 18180
warmup_iters = 1500
val_interval = 4 * iters_per_epoch  # evaluate after epochs 4, 8 and 12

param_scheduler = [
    dict(
        type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0,
        end=warmup_iters),
    dict(
        type='PolyLR',
        eta_min=0.0,
        power=1.0,
        begin=warmup_iters,
        end=max_iters,
        by_epoch=False)
]
train_cfg = dict(max_iters=max_iters, val_interval=val_interval)
default_hooks = dict(checkpoint=dict(interval=val_interval))
