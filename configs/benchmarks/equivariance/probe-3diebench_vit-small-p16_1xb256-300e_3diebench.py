# 3DIEBench equivariance probes (Garrido et al., ICML 2023): from the frozen
# features of two renders of one object, predict
#   rot_quat   -- the relative rotation R1^-1 R2 as a quaternion (x, y, z, w),
#                 w >= 0 (mmequi/datasets/three_die_bench.py)
#   color_diff -- the change of floor hue and spot-light hue (2 values)
# with the MLP 2d -> 1024 -> 1024 -> out, MSE, Adam 1e-3, batch 256, 300
# epochs; R² both as SIE (r2/<task>_sie, one scalar mean) and per dimension
# (r2/<task>_mean). Train pairs: two random renders per object, redrawn each
# epoch; val/test pairs: fixed (seed 0) on the 10,552 held-out objects.
#   python tools/train.py CONFIG --cfg-options \
#       model.backbone_checkpoint=work_dirs/<pretrain>/epoch_N.pth
_base_ = ['./_base_/probe_runtime.py', './_base_/vit_small_ibot.py']

data_root = 'data/3DIEBench'
num_views = 50
img_size = 224
mlp_probe = {{_base_.mlp_probe}}  # SIE's probe MLP, one per task
model = dict(
    num_views=2,
    tasks=dict(
        rot_quat=dict(views=(0, 1), target='rot_quat', out_channels=4,
                      head=mlp_probe),
        color_diff=dict(views=(0, 1), target='color_diff', out_channels=2,
                        head=mlp_probe)))
pair_pipeline = [
    dict(type='LoadViews'),
    dict(type='ApplyToViews', transforms=[
        dict(type='Resize', scale=(img_size, img_size),
             interpolation='bicubic')]),
    dict(type='PackInputs', algorithm_keys=['rot_quat', 'color_diff'],
         meta_keys=['img_path', 'sample_idx', 'view_ids']),
]
train_dataloader = dict(dataset=dict(
    type='ThreeDIEBench', data_root=data_root, split='train', mode='pretrain',
    num_views=num_views, pipeline=pair_pipeline))
val_dataloader = dict(dataset=dict(
    type='ThreeDIEBench', data_root=data_root, split='val', mode='pair',
    num_views=num_views, pairs_per_object=1, seed=0, pipeline=pair_pipeline,
    test_mode=True))
test_dataloader = val_dataloader
val_evaluator = dict(type='EquivarianceR2', tasks=['rot_quat', 'color_diff'])
test_evaluator = val_evaluator
