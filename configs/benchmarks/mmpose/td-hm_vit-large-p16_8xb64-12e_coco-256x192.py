# ViTPose (classic deconvolution head) + ViT-L/16 (iBOT / mmequi pretrained)
# on COCO keypoints, 12 epochs, 8 GPUs x 64 crops of 256x192, flip test,
# ground-truth person boxes at test time (coco/AP). Modelled on mmpose 1.3.2
# body_2d_keypoint/topdown_heatmap/coco/td-hm_ViTPose-large_8xb64-210e_coco-256x192.py
# (16 heads, drop path 0.5, layer decay 0.8 over 24 blocks) with the
# 12-epoch schedule of Wang et al. (AAAI-26); see README.md in this folder.
# Paper (iBOT ViT-L/16): coco/AP 0.7364, with the method 0.7371.
#
# The backbone checkpoint is a local file the user passes (never a URL):
#   tools/dist_train.sh CONFIG 8 --cfg-options \
#       model.backbone.init_cfg.checkpoint=/path/to/vit-large_backbone_nocls.pth
# made by tools/model_converters/extract_backbone.py CKPT OUT --drop-cls-token
# (pos_embed (1, 196, 1024) without the cls entry, no cls_token).
_base_ = [
    '_base_/default_runtime.py', '_base_/schedule_adamw-layer-decay_12e.py',
    '_base_/models/vitpose_vit-large-p16.py',
    '_base_/datasets/coco_topdown-256x192.py'
]

pretrained_backbone = ('<unset: pass --cfg-options '
                       'model.backbone.init_cfg.checkpoint=/path/to/'
                       'vit-large_backbone_nocls.pth>')
model = dict(
    backbone=dict(
        img_size=(256, 192),
        init_cfg=dict(type='Pretrained', checkpoint=pretrained_backbone)),
    head=dict(out_channels=_base_.num_keypoints, decoder=_base_.codec))

# layer-wise lr decay 0.8 over 24 blocks (ViTPose-L, mmpose and original)
optim_wrapper = dict(paramwise_cfg=dict(layer_decay_rate=0.8, num_layers=24))

default_hooks = dict(checkpoint=dict(save_best='coco/AP'))
