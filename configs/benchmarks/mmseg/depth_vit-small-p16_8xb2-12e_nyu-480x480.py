# Monocular depth on NYU-Depth-v2 with a DPT-style head on the pretrained
# ViT-S/16 (iBOT / mmequi), 12 epochs, 8 GPUs x 2 images, 480x480 crops;
# test on the full 640x480 image (480x480 windows + flip), Eigen crop,
# depths up to 10 m; logs rmse (m), abs_rel, d1..d3 and more.
# Paper (Wang et al. AAAI-26, Table 6) reports NYU-Depth-v2 RMSE and
# AbsRel; its head and optimiser are not given. Here: mmseg's
# DepthEstimator + mmequi's DPTDepthHead + SiLogLoss, optimised like our
# ADE20K UPerNet ViT-S config (iBOT's dense recipe: AdamW lr 3e-5, wd 0.05,
# layer decay 0.9, drop path 0.1) on the NYU 12-epoch schedule (18180
# iterations). See configs/benchmarks/mmseg/README.md.
#
# The backbone checkpoint is a local file the user passes (never a URL):
#   tools/dist_train.sh CONFIG 8 --cfg-options \
#       model.backbone.init_cfg.checkpoint=/path/to/vit-small_backbone.pth
# made by tools/model_converters/extract_backbone.py (mmpretrain keys, the
# cls entry of pos_embed kept). Without it training stops with
# "checkpoint <unset: ...> can not be found".
_base_ = [
    '_base_/dpt_vit-p16_depth.py', '_base_/nyu.py',
    '_base_/default_runtime.py', '_base_/schedule_12e_nyu.py'
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
    decode_head=dict(
        in_channels=[embed_dims] * 4,
        post_process_channels=[48, 96, 192, 384]))  # DPT's D/8 .. D

optim_wrapper = dict(
    optimizer=dict(lr=3e-5, weight_decay=0.05),
    paramwise_cfg=dict(layer_decay_rate=0.9, num_layers=12))
