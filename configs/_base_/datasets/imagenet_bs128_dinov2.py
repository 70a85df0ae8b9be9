# ImageNet-1k with DINOv2's multi-crop (DataAugmentationDINO with the
# crops of its ssl_default_config.yaml): 2 global 224 px crops, scale
# (0.32, 1), and 8 local 96 px crops, scale (0.05, 0.32). The photometric
# operations (flip, colour jitter, grey, blur, solarize) are DINOv2's =
# iBOT's: iBOTMultiCrop's defaults, as in imagenet_bs128_ibot.py. Masks:
# iBOT's block masks of the global crops with iBOTBlockMaskGenerator's
# defaults, p = 0.5 unmasked, else ratio U(0.1, 0.5) -- DINOv2's
# mask_sample_probability 0.5 and mask_ratio_min_max (0.1, 0.5), drawn per
# image here (DINOv2 masks exactly half of each batch with ratios spread
# over the range). Loader as imagenet_bs128_ibot.py.
_base_ = ['./imagenet_bs128_ibot.py']

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='iBOTMultiCrop', global_size=224, local_size=96,
         num_local=8,  # = model.loss.num_local
         global_scale=(0.32, 1.0), local_scale=(0.05, 0.32)),
    dict(type='iBOTBlockMaskGenerator', patch_size=16, num_global=2),
    dict(type='PackInputs', algorithm_keys=['crop_params'],
         meta_keys=['img_path']),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
