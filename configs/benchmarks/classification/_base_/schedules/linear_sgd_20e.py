# Linear-probe schedule: 20 epochs (Wang et al., AAAI-26: linear probing
# for 20 epochs), SGD momentum 0.9, no weight decay, cosine to 0 (the
# DINO/iBOT eval_linear optimiser, there for 100 epochs). lr 0.01 is for a
# total batch of 1024 (8 GPUs x 128); --auto-scale-lr rescales it
# linearly. iBOT sweeps the lr of its linear classifier: do the same with
#   --cfg-options optim_wrapper.optimizer.lr=...
# Only the BatchNorm neck and the linear head train (frozen backbone).
_base_ = ['../runtime.py']
linear_epochs = 20
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=0.0))
param_scheduler = [
    dict(
        type='CosineAnnealingLR',
        T_max=linear_epochs,
        by_epoch=True,
        begin=0,
        end=linear_epochs,
        eta_min=0.0,
        convert_to_iter_based=True)
]
train_cfg = dict(by_epoch=True, max_epochs=linear_epochs, val_interval=1)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=1024)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50),
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=2,
                    save_best='accuracy/top1', rule='greater'))
