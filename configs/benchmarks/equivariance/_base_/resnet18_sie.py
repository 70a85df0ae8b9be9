# The probed backbone of an SIE run (configs/sie/): ResNet-18, its globally
# pooled 512-d representation (feature='gap'); model.channels=(0, 256)
# selects the invariant part, (256, 512) the equivariant part (the split of
# SIE.extract_feat). Variables only:
#   model = dict(backbone={{_base_.sie_backbone}}, feature='gap', ...)
sie_backbone = dict(_delete_=True, type='ResNet', depth=18, out_indices=(3, ),
                    style='pytorch')
# the renders' native 256 px, as SIE (no resize)
sie_pair_pipeline = [
    dict(type='LoadViews'),
    dict(type='PackInputs', algorithm_keys=['rot_quat', 'color_diff'],
         meta_keys=['img_path', 'sample_idx', 'view_ids']),
]
sie_single_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='PackInputs', meta_keys=['img_path', 'sample_idx']),
]
