# The transformation families g_θ of the paper's Table 2, as
# EquiReconDataPreprocessor transform configs. A target config picks one:
#   model = dict(data_preprocessor=dict(transform={{_base_.color_target}}))
# (`_delete_` replaces the base config's transform instead of merging.)
rot_target = dict(_delete_=True, type='rotation', max_angle=45.0)
color_target = dict(_delete_=True, type='color', brightness=0.4,
                    contrast=0.4, saturation=0.4, hue=0.1)
blur_target = dict(_delete_=True, type='blur', sigma=(0.1, 2.0))
trans_target = dict(_delete_=True, type='translation', max_shift=10.0)
se2_target = dict(_delete_=True, type='se2', max_angle=45.0, max_shift=10.0)

# "rot" augmentation: crops and flips only (photometric augmentations off)
ibot_rot_aug_pipeline = [
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
vicreg_rot_aug_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='iBOTMultiCrop', global_size=224, num_local=0,
         global_scale=(0.08, 1.0), flip_prob=0.5, photometric=False),
    dict(type='PackInputs', algorithm_keys=['crop_params'],
         meta_keys=['img_path']),
]
