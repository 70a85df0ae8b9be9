# ViTPose (classic deconvolution head) + ViT-S/16 (iBOT / mmequi pretrained)
# on COCO keypoints, 12 epochs, 8 GPUs x 64 crops of 256x192, flip test,
# ground-truth person boxes at test time (coco/AP). Modelled on mmpose 1.3.2
# body_2d_keypoint/topdown_heatmap/coco/td-hm_ViTPose-small_8xb64-210e_coco-256x192.py
# with 6 attention heads (iBOT ViT-S) and the 12-epoch schedule of
# Wang et al. (AAAI-26); see README.md in this folder.
#
# The backbone checkpoint is a local file the user passes (never a URL):
#   tools/dist_train.sh CONFIG 8 --cfg-options \
#       model.backbone.init_cfg.checkpoint=/path/to/vit-small_backbone_nocls.pth
# made by tools/model_converters/extract_backbone.py CKPT OUT --drop-cls-token
# (mmpretrain keys, no 'backbone.' prefix, pos_embed (1, 196, 384) without the
# cls entry, no cls_token: with the cls entry mmpretrain's pos-embed resize
# fails an assertion). Without it training stops with
# "checkpoint <unset: ...> can not be found" instead of starting from random
# weights.
_base_ = [
    '_base_/default_runtime.py', '_base_/schedule_adamw-layer-decay_12e.py',
    '_base_/models/vitpose_vit-small-p16.py',
    '_base_/datasets/coco_topdown-256x192.py'
]

pretrained_backbone = ('<unset: pass --cfg-options '
                       'model.backbone.init_cfg.checkpoint=/path/to/'
                       'vit-small_backbone_nocls.pth>')
model = dict(
    backbone=dict(
        img_size=(256, 192),
        init_cfg=dict(type='Pretrained', checkpoint=pretrained_backbone)),
    head=dict(out_channels=_base_.num_keypoints, decoder=_base_.codec))

# layer-wise lr decay 0.8 over 12 blocks: mmpose's ViTPose-S value (the
# original ViTAE-Transformer/ViTPose ViT-S config uses 0.9, ViTPose-B 0.75)
optim_wrapper = dict(paramwise_cfg=dict(layer_decay_rate=0.8, num_layers=12))

default_hooks = dict(checkpoint=dict(save_best='coco/AP'))
