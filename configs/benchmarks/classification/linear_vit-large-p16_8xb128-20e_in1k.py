# Linear probe of a frozen ViT-L/16 on ImageNet-1k (iBOT ViT-L/16: 81.0
# top-1), 20 epochs, 8 GPUs x 128 images: DINO/iBOT features of larger
# ViTs (last block [CLS] + mean patch token, 2048 dims) -> BatchNorm (no
# affine) -> linear. Metrics: accuracy/top1, accuracy/top5.
#   tools/dist_train.sh configs/benchmarks/classification/\
# linear_vit-large-p16_8xb128-20e_in1k.py 8 --cfg-options \
#       model.backbone.init_cfg.checkpoint=/path/to/vit-large_backbone.pth
_base_ = [
    '_base_/models/vit-large-p16_linear.py', '_base_/datasets/imagenet.py',
    '_base_/schedules/linear_sgd_20e.py'
]
model = dict(head=dict(num_classes=1000))
