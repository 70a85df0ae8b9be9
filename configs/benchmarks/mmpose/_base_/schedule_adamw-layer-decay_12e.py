# ViTPose optimisation (Xu et al., NeurIPS 2022; mmpose 1.3.2
# td-hm_ViTPose-small_8xb64-210e_coco-256x192.py) on the 12-epoch dense
# transfer protocol of Wang et al. (AAAI-26).
#
# AdamW lr 5e-4 for a total batch of 512 (8 GPUs x 64), betas (0.9, 0.999),
# weight decay 0.1, grad-norm clip 1.0, layer-wise lr decay through mmequi's
# ViTLayerDecayOptimWrapperConstructor: lr x rate ** (num_layers + 1 - depth),
# no weight decay for biases, norms, pos_embed (the same groups as mmpose's
# own ViTPose constructor, which ignores upstream's custom_keys). A config
# sets layer_decay_rate / num_layers (ViTPose: S 0.8, B 0.75, L 0.8, H 0.85).
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(
        type='AdamW', lr=5e-4, betas=(0.9, 0.999), weight_decay=0.1),
    constructor='ViTLayerDecayOptimWrapperConstructor',
    paramwise_cfg=dict(layer_decay_rate=0.8, num_layers=12),
    clip_grad=dict(max_norm=1., norm_type=2))

# Schedule: upstream trains 210 epochs, linear warm-up over 500 iterations
# from 0.001 x lr, then steps x0.1 at epochs 170 and 200 (81 % and 95 % of
# training). Scaled to 12 epochs: steps at 10 and 11 (170/210*12 = 9.7,
# 200/210*12 = 11.4), the warm-up kept at 500 iterations (COCO at batch 512:
# 293 iterations per epoch, so 1.7 of 12 epochs; the MPII config overrides it
# with 1 epoch because 12 MPII epochs are only ~520 iterations).
max_epochs = 12
param_scheduler = [
    dict(
        type='LinearLR', begin=0, end=500, start_factor=0.001,
        by_epoch=False),
    dict(
        type='MultiStepLR',
        begin=0,
        end=max_epochs,
        milestones=[10, 11],
        gamma=0.1,
        by_epoch=True)
]
# evaluate (and keep a checkpoint) after epochs 4, 8 and 12
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=4)
# `tools/train.py --auto-scale-lr` rescales lr linearly from this batch
auto_scale_lr = dict(base_batch_size=512)
