# End-to-end fine-tuning of ViT-S/16 on FGVC-Aircraft, 50 epochs,
# 8 GPUs x 128 images, AdamW + layer-wise lr decay 0.65, Mixup/CutMix,
# RandAugment, RandomErasing, label smoothing (mmpretrain MAE/BEiT recipe,
# see _base_/models/vit-small-p16_finetune.py and
# _base_/schedules/finetune_adamw_50e.py). Metrics: accuracy/top1,
# accuracy/top5.
#   tools/dist_train.sh configs/benchmarks/classification/\
# finetune_vit-small-p16_8xb128-50e_aircraft.py 8 --cfg-options \
#       model.backbone.init_cfg.checkpoint=/path/to/vit-small_backbone.pth
_base_ = [
    '_base_/models/vit-small-p16_finetune.py', '_base_/datasets/aircraft.py',
    '_base_/schedules/finetune_adamw_50e.py'
]
model = dict(head=dict(num_classes=100))
train_dataloader = dict(dataset=dict(pipeline={{_base_.ft_train_pipeline}}))
# mixup/cutmix draw per rank
randomness = dict(seed=0, diff_rank_seed=True)
