# The 3DIEBench rotation/colour probes of
# probe-3diebench_vit-small-p16_1xb256-300e_3diebench.py on an SIE ResNet-18
# (configs/sie/) at the renders' native 256 px: SIE's own protocol. Probe the
# invariant / equivariant half with --cfg-options "model.channels=(0,256)" /
# "model.channels=(256,512)".
_base_ = ['./probe-3diebench_vit-small-p16_1xb256-300e_3diebench.py',
          './_base_/resnet18_sie.py']

model = {{_base_.sie_probe_model}}
# the renders at 256 px in both loaders (merged into the base config's)
train_dataloader = {{_base_.sie_pair_dataloader}}
val_dataloader = train_dataloader
test_dataloader = val_dataloader
