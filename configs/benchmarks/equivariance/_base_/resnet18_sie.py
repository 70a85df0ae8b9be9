# The probed backbone of an SIE run (configs/sie/): ResNet-18, its globally
# pooled 512-d representation (feature='gap'); model.channels=(0, 256)
# selects the invariant part, (256, 512) the equivariant part (the split of
# SIE.extract_feat). Complete dicts that an SIE probe config takes whole:
#   model = {{_base_.sie_probe_model}}
sie_probe_model = dict(
    backbone=dict(_delete_=True, type='ResNet', depth=18, out_indices=(3, ),
                  style='pytorch'),  # (_delete_: replaces the ViT)
    feature='gap', channels=None, prefix='backbone.', dummy_size=256)
# the renders' native 256 px, as SIE (no resize); merged into the base
# config's train and val loaders
sie_pair_pipeline = [
    dict(type='LoadViews'),
    dict(type='PackInputs', algorithm_keys=['rot_quat', 'color_diff'],
         meta_keys=['img_path', 'sample_idx', 'view_ids']),
]
sie_single_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='PackInputs', meta_keys=['img_path', 'sample_idx']),
]
sie_pair_dataloader = dict(dataset=dict(pipeline=sie_pair_pipeline))
sie_single_dataloader = dict(dataset=dict(pipeline=sie_single_pipeline))
