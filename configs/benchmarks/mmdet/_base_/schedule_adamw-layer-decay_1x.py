# 12 epochs ("1x"), lr x0.1 after epochs 8 and 11 (mmdet 3.3.0
# configs/_base_/schedules/schedule_1x.py), evaluation after epochs 4, 8,
# 12. Optimiser: ViTDet's (Li et al., ECCV 2022, Sec. 4 / Appendix A.2 and
# detectron2 projects/ViTDet/configs/COCO/mask_rcnn_vitdet_{b,l}_100ep.py):
# AdamW, betas (0.9, 0.999), weight decay 0.1, layer-wise lr decay (BEiT
# rule, mmequi's ViTLayerDecayOptimWrapperConstructor: lr x rate ** (L + 1 -
# depth); neck and heads at depth L + 1 = full lr; no decay for biases,
# norms, pos_embed, cls_token), 250-iteration linear warm-up from 0.001 x lr.
# lr 1e-4 at 16 images per batch, the usual mmdet 1x setting for
# transformer backbones (ViTDet uses 1e-4 at 64 images over 100 epochs).
# A config sets layer_decay_rate and num_layers.
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=12, val_interval=4)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

param_scheduler = [
    dict(
        type='LinearLR', start_factor=0.001, by_epoch=False, begin=0,
        end=250),
    dict(
        type='MultiStepLR',
        begin=0,
        end=12,
        by_epoch=True,
        milestones=[8, 11],
        gamma=0.1)
]

# fp32 here; train with --amp (fp16 + dynamic loss scaling on GPUs, as
# ViTDet). bfloat16 autocast (dtype='bfloat16', or --amp on a CPU) fails in
# mmequi's torchvision op backend: torchvision's roi_align backward kernel
# has no bfloat16 implementation (checked on CPU, torchvision 0.29).
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(
        type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.1),
    constructor='ViTLayerDecayOptimWrapperConstructor',
    paramwise_cfg=dict(layer_decay_rate=0.7, num_layers=12))

# tools/train.py --auto-scale-lr scales lr with the real total batch size
auto_scale_lr = dict(enable=False, base_batch_size=16)
