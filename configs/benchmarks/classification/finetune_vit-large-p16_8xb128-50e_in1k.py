# End-to-end fine-tuning of ViT-L/16 on ImageNet-1k (iBOT ViT-L/16: 84.8
# top-1), 50 epochs, 8 GPUs x 128 images: the MAE ViT-L recipe (mmpretrain
# 1.2.0 configs/mae/benchmarks/vit-large-p16_8xb128-coslr-50e_in1k.py):
# AdamW lr 4e-3 (total batch 1024), layer decay 0.75, drop path 0.2,
# Mixup/CutMix, RandAugment, RandomErasing, label smoothing. Metrics:
# accuracy/top1, accuracy/top5.
#   tools/dist_train.sh configs/benchmarks/classification/\
# finetune_vit-large-p16_8xb128-50e_in1k.py 8 --cfg-options \
#       model.backbone.init_cfg.checkpoint=/path/to/vit-large_backbone.pth
_base_ = [
    '_base_/models/vit-large-p16_finetune.py', '_base_/datasets/imagenet.py',
    '_base_/schedules/finetune_adamw_50e.py'
]
model = dict(head=dict(num_classes=1000))
train_dataloader = dict(dataset=dict(pipeline={{_base_.ft_train_pipeline}}))
optim_wrapper = dict(
    optimizer=dict(lr=4e-3),
    paramwise_cfg=dict(layer_decay_rate=0.75, num_layers=24))
randomness = dict(seed=0, diff_rank_seed=True)
