# VICReg + ours, ViT-S/16, paper row "Ours(VICReg, rot, rot)": augmentation
# "rot" = crops and flips only (photometric augmentations off), targets =
# intermediate rotations.
_base_ = ['./vicreg-equi_vit-small-p16_8xb128-amp-coslr-100e_in1k_all-rot.py']

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='iBOTMultiCrop', global_size=224, num_local=0,
         global_scale=(0.08, 1.0), flip_prob=0.5, photometric=False),
    dict(type='PackInputs', algorithm_keys=['crop_params'],
         meta_keys=['img_path']),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
