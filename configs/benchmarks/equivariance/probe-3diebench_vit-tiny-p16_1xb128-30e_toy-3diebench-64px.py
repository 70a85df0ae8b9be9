# The 3DIEBench rotation/colour probes of
# probe-3diebench_vit-small-p16_1xb256-300e_3diebench.py on the embedded toy
# set with the demo's small ViT (see _base_/toy_3diebench.py for what
# changes). Train: 8 fixed pairs of renders of each training object; test:
# 8 fixed pairs of each held-out object.
_base_ = ['./probe-3diebench_vit-small-p16_1xb256-300e_3diebench.py',
          './_base_/toy_3diebench.py', '../../_base_/models/toy_vit.py']

# the toy probes' model and 256-wide MLP heads (see _base_/toy_3diebench.py)
model = dict(
    backbone={{_base_.toy_vit}}, dummy_size=64, input_norm=True,
    feature='cls_mean_patch',
    tasks=dict(rot_quat=dict(head=dict(hidden_channels=256)),
               color_diff=dict(head=dict(hidden_channels=256))))
# fixed pairs, decoded once (CachedDataset) and embedded once (feature cache)
train_dataloader = {{_base_.toy_pair_train_dataloader}}
val_dataloader = {{_base_.toy_pair_val_dataloader}}
test_dataloader = val_dataloader
probe_epochs = 30
train_cfg = dict(max_epochs=probe_epochs, val_interval=probe_epochs)
default_hooks = dict(logger=dict(interval=10),
                     checkpoint=dict(interval=probe_epochs))
