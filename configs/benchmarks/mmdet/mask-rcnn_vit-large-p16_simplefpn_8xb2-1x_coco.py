# Mask R-CNN + ViTDet simple FPN, ViT-L/16 backbone (iBOT / mmequi
# pretrained), COCO 2017, 12 epochs, 8 GPUs x 2 images, 1024 x 1024 LSJ.
# Logs coco/bbox_mAP and coco/segm_mAP (see _base_/coco-instance_lsj-1024.py).
# ViTDet's ViT-L values: layer decay 0.8 over 24 blocks, drop path 0.4
# (detectron2 projects/ViTDet mask_rcnn_vitdet_l_100ep.py).
# Reference (Wang et al. AAAI-26, iBOT ViT-L/16, Mask R-CNN 12 epochs):
# APb .5158 -> .5192, APm .4448 -> .4478 with the method.
#
# The backbone checkpoint is a local file the user passes (never a URL):
#   tools/dist_train.sh CONFIG 8 --amp --cfg-options \
#       model.backbone.init_cfg.checkpoint=/path/to/vit-large_backbone.pth
# made by tools/model_converters/extract_backbone.py (mmpretrain keys, no
# 'backbone.' prefix, pos_embed with its cls entry). Without it training
# stops with "checkpoint <unset: ...> can not be found" instead of starting
# from random weights.
_base_ = [
    '_base_/mask-rcnn_vit-p16_simplefpn.py', '_base_/coco-instance_lsj-1024.py',
    '_base_/schedule_adamw-layer-decay_1x.py', '_base_/default_runtime.py'
]

pretrained_backbone = ('<unset: pass --cfg-options '
                       'model.backbone.init_cfg.checkpoint=/path/to/'
                       'vit-large_backbone.pth>')
embed_dims = 1024  # ViT-L/16: 1024 dims, 24 blocks, 16 heads
model = dict(
    backbone=dict(
        arch='large',
        drop_path_rate=0.4,
        init_cfg=dict(type='Pretrained', checkpoint=pretrained_backbone)),
    neck=dict(in_channels=embed_dims))

optim_wrapper = dict(paramwise_cfg=dict(layer_decay_rate=0.8, num_layers=24))
