# 3DIEBench (Garrido et al., ICML 2023) as SIE trains on it: every sample is
# two renders of one object with their relative rotation (rot_quat) and
# colour change (color_diff); 128 samples per GPU.
#   ROOT/<synset>/<object>/image_{i}.jpg, latent_{i}.npy (i = 0..49)
img_size = 256  # 3DIEBench renders are 256 x 256 (no resizing)
data_root = 'data/3DIEBench'
# no augmentation: the two views are two renders of one object (README)
train_pipeline = [
    dict(type='LoadViews'),
    dict(type='ApplyToViews',
         transforms=[dict(type='Resize', scale=(img_size, img_size))]),
    dict(type='PackInputs', algorithm_keys=['rot_quat', 'color_diff'],
         meta_keys=['img_path', 'view_ids', 'object_path']),
]
train_dataloader = dict(
    batch_size=128,
    num_workers=10,
    persistent_workers=False,  # exact --resume needs fresh workers (README)
    pin_memory=True,
    drop_last=True,
    worker_init_fn=dict(type='epoch_worker_init_fn'),
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='ThreeDIEBench', data_root=data_root, split='train',
                 mode='pretrain', num_views=50, pipeline=train_pipeline))
