# Shared by the 224-px dataset bases (ImageNet, iNat18, Aircraft, Pets,
# Food-101, Flowers-102): preprocessing and loaders. Each dataset file sets
# dataset_type, data_root, num_classes and the splits:
#   train_dataloader = dict(dataset=dict(type=..., data_root=..., split=...))
#   val_dataloader = dict(dataset=dict(...)); test_dataloader = val_dataloader
#   data_preprocessor = dict(num_classes=...)

# scope, plugin and the rest of the runtime: ../runtime.py (through the
# schedules), or the config itself (k-NN).

# ImageNet mean/std on 0-255 RGB (images are decoded as BGR -> to_rgb)
data_preprocessor = dict(
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    to_rgb=True)

# Linear-probe training / evaluation preprocessing of DINO/iBOT
# eval_linear.py: RandomResizedCrop(224) (torchvision default: scale
# (0.08, 1), bilinear) + horizontal flip; test: resize the short side to 256
# (bicubic) + center crop 224. Fine-tuning configs replace train_pipeline.
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=224, backend='pillow',
         interpolation='bilinear'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=256, edge='short', backend='pillow',
         interpolation='bicubic'),
    dict(type='CenterCrop', crop_size=224),
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
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=128,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        pipeline=test_pipeline))
test_dataloader = val_dataloader
# metric keys: accuracy/top1, accuracy/top5
val_evaluator = dict(type='Accuracy', topk=(1, 5))
test_evaluator = val_evaluator
