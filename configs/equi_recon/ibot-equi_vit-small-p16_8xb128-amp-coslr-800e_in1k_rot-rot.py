# iBOT + ours, ViT-S/16, paper row "Ours(iBOT, rot, rot)": augmentation
# "rot" = crops and flips only (photometric augmentations off), targets =
# intermediate rotations.
_base_ = ['./ibot-equi_vit-small-p16_8xb128-amp-coslr-800e_in1k_all-rot.py']

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='iBOTMultiCrop', global_size=224, local_size=96, num_local=10,
         global_scale=(0.25, 1.0), local_scale=(0.05, 0.25), flip_prob=0.5,
         photometric=False),
    dict(type='iBOTBlockMaskGenerator', patch_size=16, num_global=2,
         pred_ratio=(0.0, 0.3), pred_ratio_var=(0.0, 0.2),
         pred_aspect_ratio=(0.3, 1 / 0.3)),
    dict(type='PackInputs', algorithm_keys=['crop_params'],
         meta_keys=['img_path']),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
