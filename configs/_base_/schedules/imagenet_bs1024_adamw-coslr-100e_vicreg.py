# VICReg + ours' optimisation, our shorter variant: 100 epochs of AdamW
# (lr 2e-3 for batch 1024, cosine, 10 warm-up epochs, weight decay 0.05).
# The paper's recipe (800 epochs, batch 2048, lr 1e-4 x B/256) is
# imagenet_bs2048_adamw-coslr-800e_vicreg.py, which inherits this file.
max_epochs = 100
warmup_epochs = 10
optim_wrapper = dict(
    type='SSLAmpOptimWrapper',
    dtype='bfloat16',
    loss_scale=dict(enabled=False),
    optimizer=dict(type='AdamW', lr=2e-3, betas=(0.9, 0.999),
                   weight_decay=0.05,
                   fused=True),  # one fused kernel per step (GPU and CPU)
    clip_grad=dict(max_norm=3.0),
    constructor='SSLOptimWrapperConstructor',
    paramwise_cfg=dict(no_decay_1d=True,
                       no_decay_keys=('pos_embed', 'cls_token')))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-9, by_epoch=True, begin=0,
         end=warmup_epochs, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=1e-6, by_epoch=True,
         begin=warmup_epochs, end=max_epochs, convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
auto_scale_lr = dict(base_batch_size=1024)
