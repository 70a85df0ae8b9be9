# VICReg + ours' optimisation as published (Wang et al., AAAI-26,
# arXiv 2503.18753, Sec. "Pretraining"): ViT-S/16, 800 epochs, batch 2048
# (16 GPUs), AdamW, cosine decay, lr = 1e-4 x B/256 = 8e-4 at B = 2048.
# Not published, kept from our 100-epoch variant
# (imagenet_bs1024_adamw-coslr-100e_vicreg.py): 10 linear warm-up epochs,
# cosine to 1e-6, weight decay 0.05 (none on biases/norms/pos_embed/
# cls_token), betas (0.9, 0.999), grad clip 3.0, bf16 autocast.
_base_ = ['./imagenet_bs1024_adamw-coslr-100e_vicreg.py']

max_epochs = 800
warmup_epochs = 10
optim_wrapper = dict(optimizer=dict(lr=1e-4 * 2048 / 256))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-9, by_epoch=True, begin=0,
         end=warmup_epochs, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=1e-6, by_epoch=True,
         begin=warmup_epochs, end=max_epochs, convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
auto_scale_lr = dict(base_batch_size=2048)
