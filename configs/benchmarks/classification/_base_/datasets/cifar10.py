# CIFAR-10, mmequi `OfflineCIFAR10` (mmpretrain's `CIFAR10` reading of the
# official python batches, never downloading, files validated by structure;
# the official md5s are checked too unless check_md5=False). Train on train
# (50,000), evaluate on test (10,000), 10 classes. Layout::
#   data/cifar10/cifar-10-batches-py/{data_batch_1..5,test_batch,batches.meta}

# scope, plugin and the rest of the runtime: ../runtime.py (through the
# schedules), or the config itself (k-NN).

dataset_type = 'OfflineCIFAR10'
data_root = 'data/cifar10'
num_classes = 10

# The pickled images are RGB already (to_rgb=False); ImageNet mean/std.
data_preprocessor = dict(
    num_classes=num_classes,
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    to_rgb=False)

# As the iBOT/DINO linear evaluation on CIFAR: the 32x32 images are
# upsampled to the ViT's 224x224 input (bicubic): RandomResizedCrop(224) +
# flip for training, a plain resize to 224 (no center crop) for testing.
train_pipeline = [
    dict(type='RandomResizedCrop', scale=224, backend='pillow',
         interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='Resize', scale=(224, 224), backend='pillow',
         interpolation='bicubic'),
    dict(type='PackInputs'),
]

train_dataloader = dict(
    batch_size=128,  # per GPU (8 x 128 = 1024)
    num_workers=8,
    persistent_workers=False,  # exact --resume needs fresh workers (README)
    sampler=dict(type='DefaultSampler', shuffle=True),
    worker_init_fn=dict(type='epoch_worker_init_fn'),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='train',
        download=False,
        check_md5=True,
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=128,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='test',
        download=False,
        check_md5=True,
        pipeline=test_pipeline))
test_dataloader = val_dataloader
# metric keys: accuracy/top1, accuracy/top5
val_evaluator = dict(type='Accuracy', topk=(1, 5))
test_evaluator = val_evaluator
