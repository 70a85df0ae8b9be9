# VICReg's optimisation scaled down for the tiny smoke configs on toy-shapes
# (VICReg/SimCLR + ours, CrossAttnRecon, SIE(θ)): fp32 AdamW lr 5e-4 at
# batch 8, weight decay 0.05 (none on biases/norms/pos_embed/cls_token), grad
# clip 3.0, 1 warm-up epoch + cosine over 4 epochs. Otherwise
# imagenet_bs1024_adamw-coslr-100e_vicreg.py (the configs set logging every
# iteration: default_hooks is the runtime's).
_base_ = ['./imagenet_bs1024_adamw-coslr-100e_vicreg.py']

max_epochs = 4
warmup_epochs = 1
optim_wrapper = dict(type='SSLOptimWrapper', _delete_=True,
                     optimizer=dict(type='AdamW', lr=5e-4,
                                    betas=(0.9, 0.999), weight_decay=0.05),
                     clip_grad=dict(max_norm=3.0),
                     constructor='SSLOptimWrapperConstructor',
                     paramwise_cfg=dict(no_decay_1d=True,
                                        no_decay_keys=('pos_embed',
                                                       'cls_token')))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-9, by_epoch=True, begin=0,
         end=warmup_epochs, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=1e-6, by_epoch=True,
         begin=warmup_epochs, end=max_epochs, convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=max_epochs)
auto_scale_lr = dict(base_batch_size=8)
