# Linear probe of a frozen ViT-S/16 on CIFAR-100, 20 epochs,
# 8 GPUs x 128 images: DINO/iBOT features (last-4-block [CLS] tokens,
# 1536 dims) -> BatchNorm (no affine) -> linear. Metrics: accuracy/top1,
# accuracy/top5.
#   tools/dist_train.sh configs/benchmarks/classification/\
# linear_vit-small-p16_8xb128-20e_cifar100.py 8 --cfg-options \
#       model.backbone.init_cfg.checkpoint=/path/to/vit-small_backbone.pth
_base_ = [
    '_base_/models/vit-small-p16_linear.py', '_base_/datasets/cifar100.py',
    '_base_/schedules/linear_sgd_20e.py'
]
model = dict(head=dict(num_classes=100))
