# ImageNet-1k with DINOv2's multi-crop (DataAugmentationDINO with the
# crops of its ssl_default_config.yaml): 2 global 224 px crops, scale
# (0.32, 1), and 8 local 96 px crops, scale (0.05, 0.32). The photometric
# operations (flip, colour jitter, grey, blur, solarize) are DINOv2's =
# iBOT's: iBOTMultiCrop's defaults, as in imagenet_bs128_ibot.py. Masks:
# DINOv2's, drawn per batch when it is collated (dinov2_mask_collate,
# mmequi/datasets/batch_mask.py): exactly int(0.5 x 2B) of the 2B global
# crops are block-masked (mask_sample_probability 0.5), their ratios spread
# evenly over (0.1, 0.5) (mask_ratio_min_max), then shuffled over the crops;
# blocks of 4 .. N/2 patches. Loader otherwise as imagenet_bs128_ibot.py.
_base_ = ['./imagenet_bs128_ibot.py']

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='iBOTMultiCrop', global_size=224, local_size=96,
         num_local=8,  # = model.loss.num_local
         global_scale=(0.32, 1.0), local_scale=(0.05, 0.32)),
    dict(type='PackInputs', algorithm_keys=['crop_params'],
         meta_keys=['img_path']),
]
# DINOv2's batch-level masks (replace iBOTBlockMaskGenerator's per-image
# coin flip); patch_size = model.backbone.patch_size
dinov2_collate = dict(type='dinov2_mask_collate', patch_size=16,
                      num_global=2, mask_probability=0.5,
                      mask_ratio=(0.1, 0.5))
train_dataloader = dict(dataset=dict(pipeline=train_pipeline),
                        collate_fn=dinov2_collate)
