# toy-shapes-64px_bs8_ibot.py (64 px globals, 2 local crops of 32 px, batch
# 8, no workers) with DINOv2's batch-level masks of imagenet_bs128_dinov2.py
# (dinov2_mask_collate) instead of iBOTBlockMaskGenerator.
_base_ = ['./toy-shapes-64px_bs8_ibot.py']

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='iBOTMultiCrop', global_size=64, local_size=32,
         num_local=2, global_scale=(0.25, 1.0),  # = model.loss.num_local
         local_scale=(0.05, 0.25)),
    dict(type='PackInputs', algorithm_keys=['crop_params'],
         meta_keys=['img_path']),
]
train_dataloader = dict(
    dataset=dict(pipeline=train_pipeline),
    collate_fn=dict(type='dinov2_mask_collate', patch_size=16, num_global=2,
                    mask_probability=0.5, mask_ratio=(0.1, 0.5)))
