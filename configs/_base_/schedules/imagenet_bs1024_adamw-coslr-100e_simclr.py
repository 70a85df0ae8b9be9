# SimCLR + ours' optimisation. The paper does not publish it (Table 4 gives
# the row only); ours, not published: 100 epochs of AdamW, lr = 1.5e-4 * B/256
# (6e-4 at batch 1024) and weight decay 0.1 -- the scaling rule and decay of
# MoCo v3's ViT recipe (Chen, Xie and He, ICCV 2021) --, 10 warm-up epochs,
# cosine to 1e-6, bf16 autocast, gradient clipping at 3.
max_epochs = 100
warmup_epochs = 10
optim_wrapper = dict(
    type='SSLAmpOptimWrapper',
    dtype='bfloat16',
    loss_scale=dict(enabled=False),
    optimizer=dict(type='AdamW', lr=6e-4, betas=(0.9, 0.999),
                   weight_decay=0.1,
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
