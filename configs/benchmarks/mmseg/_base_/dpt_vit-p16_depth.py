# Monocular depth: mmseg 1.2.2's DepthEstimator (an EncoderDecoder) on the
# backbone block of upernet_vit-p16_mln.py (mmpretrain's VisionTransformer,
# the same export format and keys), at img_size 480, with mmequi's
# DPTDepthHead (DPT, Ranftl et al. ICCV 2021: reassemble 4 ViT levels to
# strides 4-32, fuse coarse to fine, depth = sigmoid(.) x max_depth) and
# mmseg's SiLogLoss (Eigen et al. NeurIPS 2014, lambda 0.5; pixels with
# depth 0 skipped). No neck, no auxiliary head.
# A config sets the ViT arch, out_indices, widths and the checkpoint.
_base_ = ['upernet_vit-p16_mln.py']

model = dict(
    type='DepthEstimator',
    data_preprocessor=dict(
        seg_pad_val=0,  # padded depth = 0 = no measurement (not 255 m)
        size=(480, 480)),  # pad training crops to the crop size
    backbone=dict(img_size=480),  # pos_embed resized from 14x14 at load
    neck=None,
    auxiliary_head=None,
    decode_head=dict(
        _delete_=True,
        type='DPTDepthHead',
        in_channels=[384, 384, 384, 384],
        post_process_channels=[48, 96, 192, 384],
        channels=256,
        max_depth=10.0,
        align_corners=False,
        loss_decode=dict(type='SiLogLoss', loss_weight=1.0)),
    # 480x480 windows over the 480x640 test image (2 windows, stride 160),
    # each averaged with its horizontal flip, as mmseg's NYU configs. (Not
    # mode='slide': mmseg 1.2.2's DepthEstimator.inference runs
    # whole_inference after it and discards the slide result.)
    test_cfg=dict(mode='slide_flip', crop_size=(480, 480), stride=(160, 160)))
