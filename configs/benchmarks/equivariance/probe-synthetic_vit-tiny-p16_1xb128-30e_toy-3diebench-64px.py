# The synthetic-transform probes of
# probe-synthetic_vit-small-p16_1xb256-50e_in1k.py on the renders of the
# embedded toy set (train: training objects, test: held-out objects) with the
# demo's small ViT, with the paper's ranges unchanged (in pixels of the
# 64 px image: a ±10 px shift is relatively 3.5x larger than at 224 px; a
# blur scaled down with the image, σ <= 0.57 px, would change a 64 px render
# by ~1 grey level and no backbone could predict it).
_base_ = ['./probe-synthetic_vit-small-p16_1xb256-50e_in1k.py',
          './_base_/toy_3diebench.py', '../../_base_/models/toy_vit.py']

toy_single_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='PackInputs', meta_keys=['img_path', 'sample_idx']),
]
model = dict(
    backbone={{_base_.toy_vit}}, dummy_size={{_base_.toy_img_size}},
    input_norm={{_base_.toy_input_norm}}, feature={{_base_.toy_feature}},
    tasks=dict(rot=dict(head={{_base_.toy_mlp_probe}}),
               color=dict(head={{_base_.toy_mlp_probe}}),
               blur=dict(head={{_base_.toy_mlp_probe}}),
               trans=dict(head={{_base_.toy_mlp_probe}})))
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
    dataset=dict(_delete_=True, type='ThreeDIEBench',
                 data_root={{_base_.toy_data_root}}, split='val',
                 mode='single', num_views={{_base_.toy_num_views}},
                 pipeline=toy_single_pipeline, test_mode=True))
test_dataloader = val_dataloader
train_cfg = dict(max_epochs={{_base_.toy_probe_epochs}},
                 val_interval={{_base_.toy_probe_epochs}})
default_hooks = dict(logger=dict(interval=10),
                     checkpoint=dict(interval={{_base_.toy_probe_epochs}}))
