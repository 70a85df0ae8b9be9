# Monocular depth on NYU-Depth-v2 with a DPT-style head on the pretrained
# ViT-L/16 (iBOT / mmequi), 12 epochs, 8 GPUs x 2 images, 480x480 crops;
# test on the full 640x480 image (480x480 windows + flip), Eigen crop,
# depths up to 10 m; logs rmse (m), abs_rel, d1..d3 and more.
# Paper (Wang et al. AAAI-26, Table 6) reports NYU-Depth-v2 RMSE and
# AbsRel for its ViT-L rows; its head and optimiser are not given. Here:
# mmseg's DepthEstimator + mmequi's DPTDepthHead (DPT-Large widths
# 256/512/1024/1024) + SiLogLoss, optimised like our ADE20K UPerNet ViT-L
# config (iBOT's ViT-L dense recipe: AdamW lr 2e-5, wd 0.05, layer decay
# 0.95, drop path 0.2) on the NYU 12-epoch schedule (18180 iterations).
#
# The backbone checkpoint is a local file the user passes (never a URL):
#   tools/dist_train.sh CONFIG 8 --cfg-options \
#       model.backbone.init_cfg.checkpoint=/path/to/vit-large_backbone.pth
# Without it training stops with "checkpoint <unset: ...> can not be found".
# For mixed precision add --amp (bf16: optim_wrapper.dtype=bfloat16).
_base_ = [
    '_base_/dpt_vit-p16_depth.py', '_base_/nyu.py',
    '_base_/default_runtime.py', '_base_/schedule_12e_nyu.py'
]

pretrained_backbone = ('<unset: pass --cfg-options '
                       'model.backbone.init_cfg.checkpoint=/path/to/'
                       'vit-large_backbone.pth>')
embed_dims = 1024  # ViT-L/16: 1024 dims, 24 blocks, 16 heads
model = dict(
    backbone=dict(
        arch='large',
        out_indices=(7, 11, 15, 23),  # as the ADE20K UPerNet ViT-L config
        drop_path_rate=0.2,
        init_cfg=dict(type='Pretrained', checkpoint=pretrained_backbone)),
    decode_head=dict(
        in_channels=[embed_dims] * 4,
        post_process_channels=[256, 512, 1024, 1024]))  # DPT-Large

optim_wrapper = dict(
    optimizer=dict(lr=2e-5, weight_decay=0.05),
    paramwise_cfg=dict(layer_decay_rate=0.95, num_layers=24))
