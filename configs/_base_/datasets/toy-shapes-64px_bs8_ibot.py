# The generated toy-shapes images (tools/dataset_converters/make_toy_shapes.py
# --size 64) with iBOT's multi-crop scaled down: 64 px globals, 2 local crops
# of 32 px; batch 8, no worker processes (tests and smoke runs). The loader
# settings are those of imagenet_bs128_ibot.py.
#   python tools/dataset_converters/make_toy_shapes.py --out data/toy_shapes_64 --size 64
_base_ = ['./imagenet_bs128_ibot.py']

data_root = 'data/toy_shapes_64'
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='iBOTMultiCrop', global_size=64, local_size=32,
         num_local=2, global_scale=(0.25, 1.0),  # = model.loss.num_local
         local_scale=(0.05, 0.25)),
    dict(type='iBOTBlockMaskGenerator', patch_size=16, num_global=2),
    dict(type='PackInputs', algorithm_keys=['crop_params'],
         meta_keys=['img_path']),
]
train_dataloader = dict(
    batch_size=8,
    num_workers=0,
    pin_memory=False,
    dataset=dict(
        _delete_=True,
        type='CustomDataset',
        data_root=data_root,
        data_prefix='train',
        with_label=False,
        pipeline=train_pipeline))
