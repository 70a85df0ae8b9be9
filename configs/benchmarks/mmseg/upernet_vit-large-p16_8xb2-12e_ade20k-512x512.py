# UPerNet + ViT-L/16 (iBOT / mmequi pretrained) on ADE20K, 12 epochs,
# 8 GPUs x 2 images, 512x512 crops, sliding-window test (mIoU).
# Paper (Wang et al. AAAI-26, 12 epochs): iBOT 52.17 -> 52.38 mIoU with the
# method. Structure: mmseg 1.2.2 ViT UPerNet + MultiLevelNeck with
# mmpretrain's ViT; optimisation: iBOT's ADE20K UPerNet ViT-L recipe
# (bytedance/ibot evaluation/semantic_segmentation/configs/upernet/
# vit_large_512_ade20k_160k.py: AdamW lr 2e-5, wd 0.05, layer decay 0.95,
# drop path 0.2, out_indices 7/11/15/23), on the 12-epoch schedule.
#
# The backbone checkpoint is a local file the user passes (never a URL):
#   tools/dist_train.sh CONFIG 8 --cfg-options \
#       model.backbone.init_cfg.checkpoint=/path/to/vit-large_backbone.pth
# Without it training stops with "checkpoint <unset: ...> can not be found".
# iBOT trained ViT-L with fp16 (apex); here add --amp to tools/train.py.
_base_ = [
    '_base_/upernet_vit-p16_mln.py', '_base_/ade20k.py',
    '_base_/default_runtime.py', '_base_/schedule_12e.py'
]

pretrained_backbone = ('<unset: pass --cfg-options '
                       'model.backbone.init_cfg.checkpoint=/path/to/'
                       'vit-large_backbone.pth>')
embed_dims = 1024  # ViT-L/16: 1024 dims, 24 blocks, 16 heads
model = dict(
    backbone=dict(
        arch='large',
        out_indices=(7, 11, 15, 23),
        drop_path_rate=0.2,  # iBOT ViT-L ADE20K (ViT-S: 0.1)
        init_cfg=dict(type='Pretrained', checkpoint=pretrained_backbone)),
    neck=dict(in_channels=[embed_dims] * 4, out_channels=embed_dims),
    decode_head=dict(in_channels=[embed_dims] * 4, num_classes=150),
    auxiliary_head=dict(in_channels=embed_dims, num_classes=150))

optim_wrapper = dict(
    optimizer=dict(lr=2e-5, weight_decay=0.05),
    paramwise_cfg=dict(layer_decay_rate=0.95, num_layers=24))
