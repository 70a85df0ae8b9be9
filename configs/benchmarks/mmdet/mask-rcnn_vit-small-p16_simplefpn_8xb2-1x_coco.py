# Mask R-CNN + ViTDet simple FPN, ViT-S/16 backbone (iBOT / mmequi
# pretrained), COCO 2017, 12 epochs, 8 GPUs x 2 images, 1024 x 1024 LSJ.
# Logs coco/bbox_mAP and coco/segm_mAP (see _base_/coco-instance_lsj-1024.py).
# ViT-S has ViT-B's depth (12 blocks): ViTDet's ViT-B values, layer decay
# 0.7 and drop path 0.1 (detectron2 projects/ViTDet mask_rcnn_vitdet_b).
#
# The backbone checkpoint is a local file the user passes (never a URL):
#   tools/dist_train.sh CONFIG 8 --amp --cfg-options \
#       model.backbone.init_cfg.checkpoint=/path/to/vit-small_backbone.pth
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
                       'vit-small_backbone.pth>')
embed_dims = 384  # ViT-S/16: 384 dims, 12 blocks, 6 heads (deit-small)
model = dict(
    backbone=dict(
        arch='deit-small',
        drop_path_rate=0.1,
        init_cfg=dict(type='Pretrained', checkpoint=pretrained_backbone)),
    neck=dict(in_channels=embed_dims))

optim_wrapper = dict(paramwise_cfg=dict(layer_decay_rate=0.7, num_layers=12))
