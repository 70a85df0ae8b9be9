# ViTPose (classic deconvolution head) + ViT-L/16 (iBOT / mmequi pretrained)
# on MPII, 12 epochs, 8 GPUs x 64 crops of 256x256, flip test, PCKh@0.5
# (logged as 'PCK'). Backbone, head and optimiser as the COCO config
# td-hm_vit-large-p16_8xb64-12e_coco-256x192.py; data as mmpose 1.3.2's
# MPII configs (td-hm_*_8xb64-210e_mpii-256x256.py) with UDP heatmaps.
# Paper (iBOT ViT-L/16): PCKh 0.8697, with the method 0.8742.
#
# The backbone checkpoint is a local file the user passes (never a URL):
#   tools/dist_train.sh CONFIG 8 --cfg-options \
#       model.backbone.init_cfg.checkpoint=/path/to/vit-large_backbone_nocls.pth
# (extract_backbone.py --drop-cls-token; pos_embed 14x14 is resized to
# 16x16 on loading).
_base_ = [
    '_base_/default_runtime.py', '_base_/schedule_adamw-layer-decay_12e_mpii.py',
    '_base_/models/vitpose_vit-large-p16.py',
    '_base_/datasets/mpii_topdown-256x256.py'
]

pretrained_backbone = ('<unset: pass --cfg-options '
                       'model.backbone.init_cfg.checkpoint=/path/to/'
                       'vit-large_backbone_nocls.pth>')
model = dict(
    backbone=dict(
        img_size=(256, 256),
        init_cfg=dict(type='Pretrained', checkpoint=pretrained_backbone)),
    head=dict(out_channels=_base_.num_keypoints, decoder=_base_.codec))

optim_wrapper = dict(paramwise_cfg=dict(layer_decay_rate=0.8, num_layers=24))

default_hooks = dict(checkpoint=dict(save_best='PCK'))
