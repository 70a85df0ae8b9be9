# The 3DIEBench classification probe of
# linear-3diebench_vit-small-p16_1xb256-100e_3diebench.py on the embedded toy
# set with the demo's small ViT: a linear layer on the [CLS] feature of one
# render; train on all renders of the training objects, test on all renders
# of the held-out objects.
_base_ = ['./linear-3diebench_vit-small-p16_1xb256-100e_3diebench.py',
          './_base_/toy_3diebench.py', '../../_base_/models/toy_vit.py']

# the toy probes' model (see _base_/toy_3diebench.py)
model = dict(backbone={{_base_.toy_vit}}, dummy_size=64, input_norm=True,
             feature='cls_mean_patch', tasks=dict(cls=dict(out_channels=10)))
train_dataloader = {{_base_.toy_single_train_dataloader}}
val_dataloader = {{_base_.toy_single_all_views_val_dataloader}}
test_dataloader = val_dataloader
probe_epochs = 30
train_cfg = dict(max_epochs=probe_epochs, val_interval=probe_epochs)
default_hooks = dict(logger=dict(interval=10),
                     checkpoint=dict(interval=probe_epochs))
