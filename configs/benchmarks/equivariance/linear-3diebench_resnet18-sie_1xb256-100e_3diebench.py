# The 3DIEBench classification probe of
# linear-3diebench_vit-small-p16_1xb256-100e_3diebench.py on an SIE ResNet-18
# (configs/sie/) at the renders' native 256 px (channels: see
# probe-3diebench_resnet18-sie_1xb256-300e_3diebench.py).
_base_ = ['./linear-3diebench_vit-small-p16_1xb256-100e_3diebench.py',
          './_base_/resnet18_sie.py']

model = {{_base_.sie_probe_model}}
# the renders at 256 px in both loaders (merged into the base config's)
train_dataloader = {{_base_.sie_single_dataloader}}
val_dataloader = train_dataloader
test_dataloader = val_dataloader
