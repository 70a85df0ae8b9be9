# Loaders shared by the top-down keypoint dataset bases (COCO, MPII): batch
# 64 per GPU for training, 32 for evaluation, 4 workers. Each dataset file
# adds type, data_root, annotation files, image prefix and pipelines:
#   train_dataloader = dict(dataset=dict(type=..., data_root=..., ...))
data_mode = 'topdown'
train_dataloader = dict(
    batch_size=64,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(data_mode=data_mode))
val_dataloader = dict(
    batch_size=32,
    num_workers=4,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    dataset=dict(data_mode=data_mode, test_mode=True))
test_dataloader = val_dataloader
