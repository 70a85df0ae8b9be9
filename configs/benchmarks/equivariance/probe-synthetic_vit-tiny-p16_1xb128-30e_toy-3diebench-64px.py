# The synthetic-transform probes of
# probe-synthetic_vit-small-p16_1xb256-50e_in1k.py on the renders of the
# embedded toy set (train: training objects, test: held-out objects) with the
# demo's small ViT, with the paper's ranges unchanged (in pixels of the
# 64 px image: a ±10 px shift is relatively 3.5x larger than at 224 px; a
# blur scaled down with the image, σ <= 0.57 px, would change a 64 px render
# by ~1 grey level and no backbone could predict it).
_base_ = ['./probe-synthetic_vit-small-p16_1xb256-50e_in1k.py',
          './_base_/toy_3diebench.py', '../../_base_/models/toy_vit.py']

# the toy probes' model and 256-wide MLP heads (see _base_/toy_3diebench.py)
toy_head = dict(hidden_channels=256)
model = dict(
    backbone={{_base_.toy_vit}}, dummy_size=64, input_norm=True,
    feature='cls_mean_patch',
    tasks=dict(rot=dict(head=toy_head), color=dict(head=toy_head),
               blur=dict(head=toy_head), trans=dict(head=toy_head)))
train_dataloader = {{_base_.toy_single_train_dataloader}}
# every render of the held-out objects (replaces the base config's val set;
# written here, not taken from _base_/toy_3diebench.py: test_dataloader
# shares it and the merge would pop the _delete_ of a base dict)
val_dataloader = dict(
    batch_size=128, num_workers=0, persistent_workers=False,
    dataset=dict(_delete_=True, type='ThreeDIEBench',
                 data_root='data/toy_3diebench', split='val', mode='single',
                 num_views=10, pipeline={{_base_.toy_single_pipeline}},
                 test_mode=True))
test_dataloader = val_dataloader
probe_epochs = 30
train_cfg = dict(max_epochs=probe_epochs, val_interval=probe_epochs)
default_hooks = dict(logger=dict(interval=10),
                     checkpoint=dict(interval=probe_epochs))
