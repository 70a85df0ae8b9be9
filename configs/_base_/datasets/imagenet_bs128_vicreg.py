# ImageNet-1k as two global 224 px views (no local crops) with the
# BYOL/VICReg photometric recipe; the loader of imagenet_bs128_ibot.py
# (labels unused, 128 images per GPU).
_base_ = ['./imagenet_bs128_ibot.py']

train_pipeline = [
    dict(type='LoadImageFromFile'),
    # two global views, BYOL/VICReg-style photometric recipe
    dict(type='iBOTMultiCrop', global_size=224, num_local=0,
         global_scale=(0.08, 1.0), blur_probs=(1.0, 0.1, 0.0),
         solarize_probs=(0.0, 0.2, 0.0)),
    dict(type='PackInputs', algorithm_keys=['crop_params'],
         meta_keys=['img_path']),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
