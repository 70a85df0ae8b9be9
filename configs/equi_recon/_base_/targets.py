# The paper's "rot" augmentation rows ("Ours(iBOT|VICReg, rot, rot)"): a
# rot-rot config inherits its all-rot config and replaces the training
# pipeline, e.g.
#   train_dataloader = dict(
#       dataset=dict(pipeline={{_base_.ibot_rot_aug_pipeline}}))
# (the other targets write their g_θ, the paper's Table 2 ranges, in their
# own config: model.data_preprocessor.transform with _delete_=True)
# "rot" augmentation (paper Table 1, "Ours(., rot, rot)"): rotation only --
# every view is the whole image resized to the view size and rotated about
# its centre by its own angle ~ U(-45, 45) degrees (RandomRotationViews; no
# crops, flips or photometric ops). The paper does not publish the angle
# range of this augmentation; ±45° is its g_θ rotation range (Table 2).
# iBOT keeps its 2 global + 10 local views (the locals rotation-only too, at
# 96 px) and its block masks, so its model config is unchanged.
rot_aug_angle_range = (-45.0, 45.0)
ibot_rot_aug_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomRotationViews', global_size=224, local_size=96,
         num_local=10, angle_range=rot_aug_angle_range),
    dict(type='iBOTBlockMaskGenerator', patch_size=16, num_global=2,
         pred_ratio=(0.0, 0.3), pred_ratio_var=(0.0, 0.2),
         pred_aspect_ratio=(0.3, 1 / 0.3)),
    dict(type='PackInputs', algorithm_keys=['crop_params'],
         meta_keys=['img_path']),
]
vicreg_rot_aug_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomRotationViews', global_size=224, num_local=0,
         angle_range=rot_aug_angle_range),
    dict(type='PackInputs', algorithm_keys=['crop_params'],
         meta_keys=['img_path']),
]
