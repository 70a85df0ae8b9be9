# The 3DIEBench rotation/colour probes of
# probe-3diebench_vit-small-p16_1xb256-300e_3diebench.py on an SIE ResNet-18
# (configs/sie/) at the renders' native 256 px: SIE's own protocol. Probe the
# invariant / equivariant half with --cfg-options "model.channels=(0,256)" /
# "model.channels=(256,512)".
_base_ = ['./probe-3diebench_vit-small-p16_1xb256-300e_3diebench.py',
          './_base_/resnet18_sie.py']

model = dict(backbone={{_base_.sie_backbone}}, feature='gap', channels=None,
             prefix='backbone.', dummy_size=256)
train_dataloader = dict(dataset=dict(pipeline={{_base_.sie_pair_pipeline}}))
val_dataloader = dict(dataset=dict(pipeline={{_base_.sie_pair_pipeline}}))
test_dataloader = val_dataloader
