# The 3DIEBench classification probe of
# linear-3diebench_vit-small-p16_1xb256-100e_3diebench.py on an SIE ResNet-18
# (configs/sie/) at the renders' native 256 px (channels: see
# probe-3diebench_resnet18-sie_1xb256-300e_3diebench.py).
_base_ = ['./linear-3diebench_vit-small-p16_1xb256-100e_3diebench.py',
          './_base_/resnet18_sie.py']

model = dict(backbone={{_base_.sie_backbone}}, feature='gap', channels=None,
             prefix='backbone.', dummy_size=256)
train_dataloader = dict(
    dataset=dict(pipeline={{_base_.sie_single_pipeline}}))
val_dataloader = dict(dataset=dict(pipeline={{_base_.sie_single_pipeline}}))
test_dataloader = val_dataloader
