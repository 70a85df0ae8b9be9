# ImageNet-1k as two global 224 px views (no local crops) with SimCLR's
# augmentation (Chen et al., ICML 2020, App. A): random resized crop
# (0.08-1), flip, colour jitter of strength 1 (0.8, 0.8, 0.8, 0.2) with
# p = 0.8, grayscale p = 0.2, Gaussian blur p = 0.5 on both views, no
# solarisation; the loader of imagenet_bs128_ibot.py (labels unused, 128
# images per GPU).
_base_ = ['./imagenet_bs128_ibot.py']

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='iBOTMultiCrop', global_size=224, num_local=0,
         global_scale=(0.08, 1.0), jitter_prob=0.8, brightness=0.8,
         contrast=0.8, saturation=0.8, hue=0.2, gray_prob=0.2,
         blur_probs=(0.5, 0.5, 0.0), solarize_probs=(0.0, 0.0, 0.0)),
    dict(type='PackInputs', algorithm_keys=['crop_params'],
         meta_keys=['img_path']),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
