# iBOT + ours, ViT-L/16, paper row "Ours(iBOT, rot, rot)": augmentation
# "rot" = rotation only (RandomRotationViews: each view is the whole image
# rotated by its own angle ~ U(-45, 45)°; no crops, flips or colour ops),
# targets = intermediate rotations.
_base_ = [
    './ibot-equi_vit-large-p16_32xb32-amp-coslr-250e_in1k_all-rot.py',
    './_base_/targets.py'
]

train_dataloader = dict(
    dataset=dict(pipeline={{_base_.ibot_rot_aug_pipeline}}))
