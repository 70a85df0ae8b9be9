# iBOT + ours, ViT-S/16, ImageNet-1k, 800 epochs, rotation targets
# (ibot-equi_vit-small-p16_8xb128-amp-coslr-800e_in1k_all-rot.py) with the
# colour ops of the multi-crop on the GPU (_base_/datasets/
# imagenet_ibot_gpu-aug.py): the loader workers decode, crop and flip;
# BatchPhotometricDataPreprocessor applies jitter, grayscale, blur and
# solarize to the batch on the device and then runs the method's
# EquiReconDataPreprocessor, which draws θ and applies g_θ to the second
# global view after those ops -- the same view u, and the same K targets
# g_{kθ/(K+1)}(u), as on the CPU path.
_base_ = ['./ibot-equi_vit-small-p16_8xb128-amp-coslr-800e_in1k_all-rot.py',
          '../_base_/datasets/imagenet_ibot_gpu-aug.py']

train_pipeline = {{_base_.gpu_aug_train_pipeline}}
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
model = dict(data_preprocessor=dict(
    _delete_=True,
    type='BatchPhotometricDataPreprocessor',
    photometric={{_base_.gpu_aug_photometric}},
    preprocessor={{_base_.model.data_preprocessor}}))
