# The paper's "rot" augmentation rows ("Ours(iBOT|VICReg, rot, rot)"): a
# rot-rot config inherits its all-rot config and replaces the training
# pipeline, e.g.
#   train_dataloader = dict(
#       dataset=dict(pipeline={{_base_.ibot_rot_aug_pipeline}}))
# (the other targets write their g_θ, the paper's Table 2 ranges, in their
# own config: model.data_preprocessor.transform with _delete_=True)
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
