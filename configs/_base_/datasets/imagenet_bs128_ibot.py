# ImageNet-1k with iBOT's multi-crop (official ViT-S/16 recipe,
# DataAugmentationiBOT): 2 global 224 px + 10 local 96 px crops and the
# block masks of the global crops; labels are not used. 128 images per GPU.
data_root = 'data/imagenet/'
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='iBOTMultiCrop',
        global_size=224,
        local_size=96,
        num_local=10,  # = model.loss.num_local
        global_scale=(0.25, 1.0),
        local_scale=(0.05, 0.25),
        flip_prob=0.5,
        jitter_prob=0.8,
        brightness=0.4,
        contrast=0.4,
        saturation=0.2,
        hue=0.1,
        gray_prob=0.2,
        blur_probs=(1.0, 0.1, 0.5),  # global 1, global 2, local
        blur_sigma=(0.1, 2.0),
        solarize_probs=(0.0, 0.2, 0.0)),
    dict(
        type='iBOTBlockMaskGenerator',
        patch_size=16,
        num_global=2,
        pred_ratio=(0.0, 0.3),  # p = 0.5 unmasked, else U(0.1, 0.5)
        pred_ratio_var=(0.0, 0.2),
        pred_aspect_ratio=(0.3, 1 / 0.3)),
    dict(type='PackInputs', algorithm_keys=['crop_params'],
         meta_keys=['img_path']),
]
train_dataloader = dict(
    batch_size=128,
    num_workers=10,
    persistent_workers=False,  # exact --resume needs fresh workers (README)
    pin_memory=True,
    drop_last=True,
    worker_init_fn=dict(type='epoch_worker_init_fn'),
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type='ImageNet',
        data_root=data_root,
        split='train',
        pipeline=train_pipeline))
