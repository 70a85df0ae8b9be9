# Weighted k-NN evaluation of a pretrained ViT-L/16 on ImageNet-1k: the
# DINO / iBOT protocol of knn_vit-small-p16_8xb128_in1k.py (k = 20,
# T = 0.07, [CLS] of the last block after the final norm) with the ViT-L
# backbone. iBOT reports 78.0 k-NN top-1 for ViT-L/16.
#
#   CFG=configs/benchmarks/classification/knn_vit-large-p16_8xb128_in1k.py
#   python tools/test.py $CFG CKPT --metrics-out knn.json      # 1 GPU
#   tools/dist_test.sh $CFG CKPT 8 --metrics-out knn.json      # 8 GPUs
#
# Metrics: knn/top1, knn/top5. Bank: 1.28 M x 1024 float32 = 5.2 GB per GPU.
# k-NN on the linear-probe feature of the classification configs instead
# ([CLS] + mean patch token of the last block, 2048-d; not the protocol):
#   --cfg-options model.backbone.type=ViTLinearFeatures \
#       model.backbone.avgpool_patch_tokens=True
_base_ = ['./knn_vit-small-p16_8xb128_in1k.py']

model = dict(
    backbone=dict(
        arch='large'))  # ViT-L/16: 1024 dims, 24 layers, 16 heads
