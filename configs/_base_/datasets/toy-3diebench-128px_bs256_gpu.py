# The one-GPU experiment's data (tools/benchmarks/gpu_equivariance_experiment.sh),
# as a complete loader that a config takes whole:
#   train_dataloader = {{_base_.toy128_gpu_train_dataloader}}
# (it carries _delete_=True, so it replaces the base config's loader):
# the 128 px toy set (make_toy_3diebench.py --size 128 --objects-per-class
# 120), its 9,600 training renders decoded once into memory; the loader only
# adds the block masks of the global views (ignored by VICReg) and the
# multi-crop runs on the device (BatchMultiCropDataPreprocessor).
toy128_data_root = 'data/toy_3diebench_128'
toy128_gpu_train_dataloader = dict(
    _delete_=True,
    batch_size=256,
    num_workers=4,
    persistent_workers=False,  # exact --resume needs fresh workers (README)
    pin_memory=True,
    drop_last=True,
    worker_init_fn=dict(type='epoch_worker_init_fn'),  # masks per epoch
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type='InMemoryDataset',
        dataset=dict(type='ThreeDIEBench', data_root=toy128_data_root,
                     split='train', mode='single', num_views=10,
                     pipeline=[]),
        pipeline=[
            dict(type='iBOTBlockMaskGenerator', input_size=128,
                 patch_size=16, num_global=2),
            dict(type='PackInputs', meta_keys=['img_path', 'sample_idx']),
        ]))
