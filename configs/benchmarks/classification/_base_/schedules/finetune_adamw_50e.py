# Fine-tuning schedule: 50 epochs (Wang et al., AAAI-26), the mmpretrain
# MAE/BEiT ViT fine-tuning recipe (mmpretrain 1.2.0
# configs/mae/benchmarks/vit-base-p16_8xb128-coslr-100e_in1k.py; He et al.,
# MAE, CVPR 2022, Table 11; Bao et al., BEiT, ICLR 2022): AdamW, lr 2e-3
# for a total batch of 1024 (= 5e-4 x 1024 / 256), betas (0.9, 0.999),
# weight decay 0.05, layer-wise lr decay 0.65 (BEiT/MAE's 12-block value),
# 5 warm-up epochs (linear from 1e-4 x lr), cosine to 1e-6. No weight
# decay for biases, norms, pos_embed and cls_token (mmequi's
# ViTLayerDecayOptimWrapperConstructor). --auto-scale-lr rescales lr.
# fp32 by default; on GPUs prefer bf16 (iBOT users report fp16 NaNs,
# ibot#19): --cfg-options optim_wrapper.type=AmpOptimWrapper
# optim_wrapper.dtype=bfloat16.
_base_ = ['../runtime.py']
finetune_epochs = 50
warmup_epochs = 5
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(
        type='AdamW', lr=2e-3, betas=(0.9, 0.999), weight_decay=0.05),
    constructor='ViTLayerDecayOptimWrapperConstructor',
    paramwise_cfg=dict(layer_decay_rate=0.65, num_layers=12))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-4,
        by_epoch=True,
        begin=0,
        end=warmup_epochs,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        T_max=finetune_epochs - warmup_epochs,
        by_epoch=True,
        begin=warmup_epochs,
        end=finetune_epochs,
        eta_min=1e-6,
        convert_to_iter_based=True)
]
train_cfg = dict(by_epoch=True, max_epochs=finetune_epochs, val_interval=1)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=1024)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50),
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=2,
                    save_best='accuracy/top1', rule='greater'))
