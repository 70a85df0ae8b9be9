# UPerNet + ViT-S/16 (iBOT / mmequi pretrained) on ADE20K, 12 epochs,
# 8 GPUs x 2 images, 512x512 crops, sliding-window test (mIoU).
# Structure: mmseg 1.2.2 vit_deit-s16_mln_upernet_8xb2-160k_ade20k-512x512.py
# with mmpretrain's ViT; optimisation: iBOT's ADE20K UPerNet ViT-S recipe
# (bytedance/ibot evaluation/semantic_segmentation/configs/upernet/
# vit_small_512_ade20k_160k*.py: AdamW lr 3e-5, wd 0.05, layer decay 0.9,
# drop path 0.1), on the 12-epoch schedule of Wang et al. (AAAI-26).
#
# The backbone checkpoint is a local file the user passes (never a URL):
#   tools/dist_train.sh CONFIG 8 --cfg-options \
#       model.backbone.init_cfg.checkpoint=/path/to/vit-small_backbone.pth
# made by tools/model_converters/extract_backbone.py (mmpretrain keys, no
# 'backbone.' prefix, pos_embed with its cls entry). Without it training
# stops with "checkpoint <unset: ...> can not be found" instead of starting
# from random weights.
_base_ = [
    '_base_/upernet_vit-p16_mln.py', '_base_/ade20k.py',
    '_base_/default_runtime.py', '_base_/schedule_12e.py'
]

pretrained_backbone = ('<unset: pass --cfg-options '
                       'model.backbone.init_cfg.checkpoint=/path/to/'
                       'vit-small_backbone.pth>')
embed_dims = 384  # ViT-S/16: 384 dims, 12 blocks, 6 heads (deit-small)
model = dict(
    backbone=dict(
        arch='deit-small',
        out_indices=(3, 5, 7, 11),
        drop_path_rate=0.1,
        init_cfg=dict(type='Pretrained', checkpoint=pretrained_backbone)),
    neck=dict(in_channels=[embed_dims] * 4, out_channels=embed_dims),
    decode_head=dict(in_channels=[embed_dims] * 4, num_classes=150),
    auxiliary_head=dict(in_channels=embed_dims, num_classes=150))

optim_wrapper = dict(
    optimizer=dict(lr=3e-5, weight_decay=0.05),
    paramwise_cfg=dict(layer_decay_rate=0.9, num_layers=12))
