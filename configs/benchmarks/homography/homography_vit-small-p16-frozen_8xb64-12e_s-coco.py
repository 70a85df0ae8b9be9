# Frozen-backbone variant of homography_vit-small-p16_8xb64-12e_s-coco.py:
# the pretrained ViT-S/16 is not trained (no gradient, eval mode, no drop
# path); only the 3-layer conv head learns, with plain AdamW (lr 1e-3 for the
# total batch 512, weight decay 1e-4; our choice). It measures how much
# corner-level geometry the frozen patch tokens carry; the paper's number
# (1.53) is for the fine-tuned protocol. Same data, schedule and metric.
#   tools/dist_train.sh CONFIG 8 --cfg-options \
#       model.backbone.init_cfg.checkpoint=/path/to/vit-small_backbone.pth
_base_ = ['./homography_vit-small-p16_8xb64-12e_s-coco.py']

model = dict(backbone=dict(drop_path_rate=0.0), freeze_backbone=True)
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-3, betas=(0.9, 0.999),
                   weight_decay=1e-4),
    clip_grad=dict(max_norm=1.0, norm_type=2))
