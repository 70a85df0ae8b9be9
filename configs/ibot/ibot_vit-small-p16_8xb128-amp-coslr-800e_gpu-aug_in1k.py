# iBOT ViT-S/16, ImageNet-1k, 800 epochs (ibot_vit-small-p16_8xb128-amp-
# coslr-800e_in1k.py) with the colour ops of the multi-crop on the GPU
# (_base_/datasets/imagenet_ibot_gpu-aug.py): the loader workers decode, crop
# and flip; BatchPhotometricDataPreprocessor applies jitter, grayscale, blur
# and solarize to the batch on the device, then the model's own
# iBOTDataPreprocessor normalises. Same distribution of views as the CPU
# path; the workers' share of the work drops by about half
# (tools/analysis_tools/benchmark_data.py --profile, README "Benchmarks").
_base_ = ['./ibot_vit-small-p16_8xb128-amp-coslr-800e_in1k.py',
          '../_base_/datasets/imagenet_ibot_gpu-aug.py']

train_pipeline = {{_base_.gpu_aug_train_pipeline}}
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
model = dict(data_preprocessor=dict(
    _delete_=True,
    type='BatchPhotometricDataPreprocessor',
    photometric={{_base_.gpu_aug_photometric}},
    preprocessor={{_base_.model.data_preprocessor}}))
