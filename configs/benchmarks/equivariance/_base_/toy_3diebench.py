# What the demo's probes change on the embedded toy 3DIEBench (64 px renders,
# 10 views per object, 80 held-out objects). Complete loaders that a toy probe
# config takes whole (`train_dataloader = {{_base_.toy_single_train_dataloader}}`);
# its model and schedule set the rest:
# * the backbone is the demo's small ViT (configs/_base_/models/toy_vit.py:
#   backbone={{_base_.toy_vit}}), probed on 64 px inputs (dummy_size=64),
# * the MLP probes are 256 wide instead of SIE's 1024 (a ~10x cheaper step
#   on a CPU; the real-data configs keep 1024): head=dict(hidden_channels=256)
#   merged into each task's head,
# * every head's input is standardised (input_norm=True: BatchNorm without
#   affine, as MAE's linear probe): after a few CPU minutes of pretraining
#   the features are far from unit scale and an Adam-trained probe of 30
#   epochs would stay far from its optimum (the linear probe of the demo's
#   iBOT reached 20 % top-1 without it, 26 % with it, and 30 % for a
#   converged logistic regression on standardised features),
# * the probed feature is the backbone's [CLS] token and its mean patch
#   token, concatenated (feature='cls_mean_patch': the reconstruction acts on
#   the patch tokens, iBOT's losses on both), named in the benchmark's table,
# * 30 epochs (probe_epochs in each config), batch 128, in-process loading
#   (the loaders below).
toy_data_root = 'data/toy_3diebench'
toy_num_views = 10

# loaders: the training renders decoded once (CachedDataset); the probe
# embeds them once (feature cache). A config takes one train and one val
# loader; test = val.
toy_loader = dict(batch_size=128, num_workers=0, persistent_workers=False)
toy_single_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='PackInputs', meta_keys=['img_path', 'sample_idx']),
]
toy_pair_pipeline = [
    dict(type='LoadViews'),
    dict(type='PackInputs', algorithm_keys=['rot_quat', 'color_diff'],
         meta_keys=['img_path', 'sample_idx', 'view_ids']),
]
# one render per sample: every render of the training objects
toy_single_train_dataloader = dict(
    toy_loader,
    dataset=dict(
        _delete_=True, type='CachedDataset',
        dataset=dict(type='ThreeDIEBench', data_root=toy_data_root,
                     split='train', mode='single', num_views=toy_num_views,
                     pipeline=toy_single_pipeline)))
# every render of the held-out objects, merged into the 3DIEBench
# classification probe's val set (all renders instead of 5 per object; the
# synthetic probes replace theirs in the config: a loader with _delete_ taken
# from here must not serve as test_dataloader too, mmengine would pop the
# _delete_ of the shared dict at the first merge)
toy_single_all_views_val_dataloader = dict(
    toy_loader,
    dataset=dict(data_root=toy_data_root, num_views=toy_num_views,
                 views_per_object=None, pipeline=toy_single_pipeline))
# 8 fixed pairs of renders of each training / held-out object
toy_pair_train_dataloader = dict(
    toy_loader,
    dataset=dict(
        _delete_=True, type='CachedDataset',
        dataset=dict(type='ThreeDIEBench', data_root=toy_data_root,
                     split='train', mode='pair', num_views=toy_num_views,
                     pairs_per_object=8, seed=0,
                     pipeline=toy_pair_pipeline)))
toy_pair_val_dataloader = dict(
    toy_loader,
    dataset=dict(data_root=toy_data_root, num_views=toy_num_views,
                 pairs_per_object=8, pipeline=toy_pair_pipeline))
