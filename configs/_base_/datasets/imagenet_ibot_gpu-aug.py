# iBOT's ImageNet multi-crop (imagenet_bs128_ibot.py) split between the
# loader and the device (issue 13: a data pipeline that keeps up with a GPU):
# the workers decode, crop, resize and flip (iBOTMultiCrop with
# photometric=False, which draws no colour random numbers) and make the block
# masks; the colour jitter, grayscale, Gaussian blur and solarize run batched
# on the device in BatchPhotometricDataPreprocessor, with the same
# probabilities and ranges. The two paths agree in distribution, not pixel
# for pixel (tests/models/data_preprocessors/test_batch_photometric.py).
# Only new names are defined here, so that a config can list this file next
# to a complete config as a second base:
#   _base_ = ['<the CPU-path config>.py',
#             '../_base_/datasets/imagenet_ibot_gpu-aug.py']
#   train_pipeline = {{_base_.gpu_aug_train_pipeline}}
#   train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
#   model = dict(data_preprocessor=dict(
#       _delete_=True, type='BatchPhotometricDataPreprocessor',
#       photometric={{_base_.gpu_aug_photometric}},
#       preprocessor={{_base_.model.data_preprocessor}}))
# tests/configs/test_gpu_aug_configs.py checks that the geometry here and the
# colour ops below are exactly those of imagenet_bs128_ibot.py.
gpu_aug_photometric = dict(
    jitter_prob=0.8,
    brightness=0.4,
    contrast=0.4,
    saturation=0.2,
    hue=0.1,
    gray_prob=0.2,
    blur_probs=(1.0, 0.1, 0.5),  # global 1, global 2, local
    blur_sigma=(0.1, 2.0),
    solarize_probs=(0.0, 0.2, 0.0))
gpu_aug_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='iBOTMultiCrop',
        global_size=224,
        local_size=96,
        num_local=10,  # = model.loss.num_local
        global_scale=(0.25, 1.0),
        local_scale=(0.05, 0.25),
        flip_prob=0.5,
        photometric=False),  # colour ops: gpu_aug_photometric, on device
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
