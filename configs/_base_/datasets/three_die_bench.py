# 3DIEBench (Garrido, Najman, LeCun, ICML 2023) as pretraining data: every
# sample is two renders of one object (two random views, drawn anew every
# epoch), each with the config's crops/flips/photometric augmentations;
# iBOTMultiCrop takes global view 1 from the first render, global view 2
# from the second and local view j from render j mod 2. With the method's
# EquiReconDataPreprocessor, g_θ is then applied to the second global view
# exactly as on ImageNet.
#
# This file only defines variables; a config picks them with
#   train_dataloader = {{_base_.die_ibot_train_dataloader}}
# (each carries _delete_=True so it replaces the base config's loader).
#
#   ROOT/<synset>/<object>/image_{i}.jpg, latent_{i}.npy (i = 0..49)
#   ROOT/{train,val}_images.npy, ROOT/{train,val}_labels.npy
die_data_root = 'data/3DIEBench'
die_num_local = 10
die_ibot_pipeline = [
    dict(type='LoadViews'),  # img = [render_i, render_j] (256 x 256)
    dict(type='iBOTMultiCrop', global_size=224, local_size=96,
         num_local=die_num_local, global_scale=(0.25, 1.0),
         local_scale=(0.05, 0.25), flip_prob=0.5, jitter_prob=0.8,
         brightness=0.4, contrast=0.4, saturation=0.2, hue=0.1,
         gray_prob=0.2, blur_probs=(1.0, 0.1, 0.5), blur_sigma=(0.1, 2.0),
         solarize_probs=(0.0, 0.2, 0.0)),
    dict(type='iBOTBlockMaskGenerator', patch_size=16, num_global=2,
         pred_ratio=(0.0, 0.3), pred_ratio_var=(0.0, 0.2),
         pred_aspect_ratio=(0.3, 1 / 0.3)),
    dict(type='PackInputs',
         algorithm_keys=['crop_params', 'rot_quat', 'color_diff'],
         meta_keys=['img_path', 'sample_idx']),
]
die_ibot_train_dataloader = dict(
    _delete_=True,
    batch_size=128,
    num_workers=10,
    persistent_workers=False,
    pin_memory=True,
    drop_last=True,
    worker_init_fn=dict(type='epoch_worker_init_fn'),
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='ThreeDIEBench', data_root=die_data_root,
                 split='train', mode='pretrain', num_views=50,
                 pipeline=die_ibot_pipeline))

# The embedded toy benchmark (tools/dataset_converters/make_toy_3diebench.py,
# 64 px renders, 10 views per object): 64 px global / 32 px local crops.
toy_die_data_root = 'data/toy_3diebench'
toy_die_num_local = 2
toy_die_ibot_pipeline = [
    dict(type='LoadViews'),
    dict(type='iBOTMultiCrop', global_size=64, local_size=32,
         num_local=toy_die_num_local, global_scale=(0.25, 1.0),
         local_scale=(0.05, 0.25)),
    dict(type='iBOTBlockMaskGenerator', patch_size=16, num_global=2),
    dict(type='PackInputs',
         algorithm_keys=['crop_params', 'rot_quat', 'color_diff'],
         meta_keys=['img_path', 'sample_idx']),
]
toy_die_ibot_train_dataloader = dict(
    _delete_=True,
    batch_size=64,
    num_workers=1,
    persistent_workers=False,  # exact --resume needs fresh workers (README)
    pin_memory=False,
    drop_last=True,
    worker_init_fn=dict(type='epoch_worker_init_fn'),
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    # 6 pairs of renders per object and epoch (320 training objects of the
    # default toy set -> 1920 samples, 30 iterations of 64)
    dataset=dict(type='ThreeDIEBench', data_root=toy_die_data_root,
                 split='train', mode='pretrain', num_views=10,
                 pairs_per_object=6, pipeline=toy_die_ibot_pipeline))

# One render per sample (both global crops and the local crops from it), as
# the paper's ImageNet pretraining of iBOT + ours: every render of a training
# object is an image (320 objects x 10 renders = 3200 images per epoch, 50
# iterations of 64). The demo uses this loader: with two renders per sample
# the toy iBOT's [CLS] teacher output became uniform (entropy 0.94 of ln K
# after 300 iterations at teacher temperature 0.04; 0.63 with one render),
# see configs/equi_recon/README.md "Collapse".
toy_die_single_ibot_pipeline = [dict(type='LoadImageFromFile')] + \
    toy_die_ibot_pipeline[1:3] + [
        dict(type='PackInputs', algorithm_keys=['crop_params'],
             meta_keys=['img_path', 'sample_idx'])]
toy_die_single_ibot_train_dataloader = dict(
    toy_die_ibot_train_dataloader,
    dataset=dict(type='ThreeDIEBench', data_root=toy_die_data_root,
                 split='train', mode='single', num_views=10,
                 pipeline=toy_die_single_ibot_pipeline))
