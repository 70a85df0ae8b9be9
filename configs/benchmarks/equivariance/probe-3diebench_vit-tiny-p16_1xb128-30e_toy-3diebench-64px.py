# The 3DIEBench rotation/colour probes of
# probe-3diebench_vit-small-p16_1xb256-300e_3diebench.py on the embedded toy
# set with the demo's small ViT (see _base_/toy_3diebench.py for what
# changes). Train: 8 fixed pairs of renders of each training object; test:
# 8 fixed pairs of each held-out object.
_base_ = ['./probe-3diebench_vit-small-p16_1xb256-300e_3diebench.py',
          './_base_/toy_3diebench.py', '../../_base_/models/toy_vit.py']

toy_pair_pipeline = [
    dict(type='LoadViews'),
    dict(type='PackInputs', algorithm_keys=['rot_quat', 'color_diff'],
         meta_keys=['img_path', 'sample_idx', 'view_ids']),
]
model = dict(
    backbone={{_base_.toy_vit}}, dummy_size={{_base_.toy_img_size}},
    input_norm={{_base_.toy_input_norm}}, feature={{_base_.toy_feature}},
    tasks=dict(rot_quat=dict(head={{_base_.toy_mlp_probe}}),
               color_diff=dict(head={{_base_.toy_mlp_probe}})))
# fixed pairs, decoded once (CachedDataset) and embedded once (feature cache)
train_dataloader = dict(
    batch_size={{_base_.toy_batch_size}}, num_workers=0,
    persistent_workers=False,
    dataset=dict(
        _delete_=True, type='CachedDataset',
        dataset=dict(type='ThreeDIEBench', data_root={{_base_.toy_data_root}},
                     split='train', mode='pair',
                     num_views={{_base_.toy_num_views}}, pairs_per_object=8,
                     seed=0, pipeline=toy_pair_pipeline)))
val_dataloader = dict(
    batch_size={{_base_.toy_batch_size}}, num_workers=0,
    persistent_workers=False,
    dataset=dict(data_root={{_base_.toy_data_root}},
                 num_views={{_base_.toy_num_views}}, pairs_per_object=8,
                 pipeline=toy_pair_pipeline))
test_dataloader = val_dataloader
train_cfg = dict(max_epochs={{_base_.toy_probe_epochs}},
                 val_interval={{_base_.toy_probe_epochs}})
default_hooks = dict(logger=dict(interval=10),
                     checkpoint=dict(interval={{_base_.toy_probe_epochs}}))
