# A tiny SIE(all) for tests and smoke runs on generated 64 px images: the
# model of sie_vit-small-p16_16xb128-amp-coslr-800e_in1k_all.py (SIE
# conditioned on the θ of rotation + colour + blur + translation) scaled
# down to a 2-layer ViT, with the optimisation of the tiny VICReg + ours
# (../equi_recon/vicreg-equi_vit-tiny-p16_1xb8-4e_toy-shapes-64px_all-rot.py).
_base_ = ['../_base_/models/sie_vit-small-p16.py',
          '../_base_/datasets/toy-shapes-64px_bs8_vicreg.py',
          '../_base_/schedules/imagenet_bs1024_adamw-coslr-100e_vicreg.py',
          './_base_/sie_runtime.py']

model = dict(
    data_preprocessor=dict(transform=dict(_delete_=True, type='compose')),
    backbone=dict(
        arch=dict(_delete_=True, embed_dims=64, num_layers=2, num_heads=2,
                  feedforward_channels=128),
        img_size=64),
    projector=dict(in_channels=64, hidden_channels=128, out_channels=64),
    inv_projector=dict(in_channels=32, hidden_channels=128,
                       out_channels=128),
    equi_projector=dict(in_channels=32, hidden_channels=64,
                        out_channels=32),
    predictor=dict(embed_dims=32, hidden_channels=16),
    d_inv=32)

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
default_hooks = dict(logger=dict(type='LoggerHook', interval=1))
