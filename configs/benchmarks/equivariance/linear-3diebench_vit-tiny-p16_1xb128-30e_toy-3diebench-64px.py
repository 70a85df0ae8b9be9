# The 3DIEBench classification probe of
# linear-3diebench_vit-small-p16_1xb256-100e_3diebench.py on the embedded toy
# set with the demo's small ViT: a linear layer on the [CLS] feature of one
# render; train on all renders of the training objects, test on all renders
# of the held-out objects.
_base_ = ['./linear-3diebench_vit-small-p16_1xb256-100e_3diebench.py',
          './_base_/toy_3diebench.py', '../../_base_/models/toy_vit.py']

toy_single_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='PackInputs', meta_keys=['img_path', 'sample_idx']),
]
model = dict(backbone={{_base_.toy_vit}}, dummy_size={{_base_.toy_img_size}},
    input_norm={{_base_.toy_input_norm}}, feature={{_base_.toy_feature}},
             tasks=dict(cls=dict(out_channels=10)))
train_dataloader = dict(
    batch_size={{_base_.toy_batch_size}}, num_workers=0,
    persistent_workers=False,
    dataset=dict(
        _delete_=True, type='CachedDataset',
        dataset=dict(type='ThreeDIEBench', data_root={{_base_.toy_data_root}},
                     split='train', mode='single',
                     num_views={{_base_.toy_num_views}},
                     pipeline=toy_single_pipeline)))
val_dataloader = dict(
    batch_size={{_base_.toy_batch_size}}, num_workers=0,
    persistent_workers=False,
    dataset=dict(data_root={{_base_.toy_data_root}},
                 num_views={{_base_.toy_num_views}}, views_per_object=None,
                 pipeline=toy_single_pipeline))
test_dataloader = val_dataloader
train_cfg = dict(max_epochs={{_base_.toy_probe_epochs}},
                 val_interval={{_base_.toy_probe_epochs}})
default_hooks = dict(logger=dict(interval=10),
                     checkpoint=dict(interval={{_base_.toy_probe_epochs}}))
