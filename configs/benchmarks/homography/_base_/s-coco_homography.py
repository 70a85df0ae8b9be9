# S-COCO homography pairs (DeTone, Malisiewicz, Rabinovich, "Deep Image
# Homography Estimation", 2016, Sec. 3): every image -> grayscale -> 320x240,
# a random 128x128 patch kept rho = 32 px from the borders, its 4 corners
# perturbed by U[-rho, rho] in x and y, patch B cropped from the image warped
# by the inverse homography; target = the 8 corner offsets (pixels).
# Any image folder works (scanned recursively; no annotations are read).
#
# Training pairs are new every epoch (drawn from numpy's global generator,
# which EpochSeedHook of default_runtime.py reseeds per epoch from
# (randomness.seed, epoch, rank) and epoch_worker_init_fn hands to the
# workers; persistent_workers=False so that --resume replays epoch k
# exactly). Validation/test pairs are fixed: pair i is drawn from
# np.random.default_rng([seed, i]), identical on every run, rank and worker.
#
# DeTone et al. evaluate on 5000 pairs from COCO test images; we use the 5000
# images of val2017 (one pair each; no labels needed). For their selection:
#   --cfg-options test_dataloader.dataset.data_prefix=test2017 \
#                 test_dataloader.dataset.num_images=5000
data_root = 'data/coco'
img_scale = (320, 240)  # (W, H)
patch_size = 128
rho = 32
color_type = 'grayscale'  # 'color' gives BGR patches (the model gets RGB)

pair_pipeline = [dict(type='PackHomographyInputs')]
train_dataloader = dict(
    batch_size=64,
    num_workers=8,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=True),
    worker_init_fn=dict(type='epoch_worker_init_fn'),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type='HomographyPairs',
        data_root=data_root,
        data_prefix='train2017',
        img_scale=img_scale,
        patch_size=patch_size,
        rho=rho,
        color_type=color_type,
        pairs_per_image=1,  # one new pair per image per epoch
        pipeline=pair_pipeline))
val_dataloader = dict(
    batch_size=64,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type='HomographyPairs',
        data_root=data_root,
        data_prefix='val2017',
        img_scale=img_scale,
        patch_size=patch_size,
        rho=rho,
        color_type=color_type,
        seed=0,
        test_mode=True,  # deterministic pairs
        pipeline=pair_pipeline))
test_dataloader = val_dataloader
# logs homography/mace (mean corner error, px) and homography/mace_zero
# (the error of predicting the identity homography)
val_evaluator = dict(type='MeanCornerError')
test_evaluator = val_evaluator
