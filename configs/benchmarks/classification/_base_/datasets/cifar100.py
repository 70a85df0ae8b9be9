# CIFAR-100 (fine labels), mmequi `OfflineCIFAR100` (mmpretrain's
# `CIFAR100` reading of the official python batches, never downloading,
# files validated by structure; the official md5s are checked too unless
# check_md5=False). Train on train (50,000), evaluate on test (10,000),
# 100 classes. Layout::
#   data/cifar100/cifar-100-python/{train,test,meta}

# Everything else as CIFAR-10 (pipelines, loaders, metric).
_base_ = ['./cifar10.py']

dataset_type = 'OfflineCIFAR100'
data_root = 'data/cifar100'
num_classes = 100

data_preprocessor = dict(num_classes=num_classes)
train_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
val_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
test_dataloader = val_dataloader
