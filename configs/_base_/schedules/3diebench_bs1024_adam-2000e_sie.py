# SIE's optimisation on 3DIEBench: 2000 epochs, total batch 1024, Adam
# lr 1e-3, no weight decay (configs/sie/README.md).
max_epochs = 2000
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=1e-3, betas=(0.9, 0.999),
                   weight_decay=0.0))
# constant learning rate (no schedule): our choice, see README
param_scheduler = []
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
auto_scale_lr = dict(base_batch_size=1024)
