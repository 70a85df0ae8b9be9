# ImageNet-1k (ILSVRC2012), mmpretrain `ImageNet`: train on train (1.28 M),
# evaluate on val (50 k), 1000 classes. Layout (either form works)::
#   data/imagenet/train/<wnid>/<image>.JPEG     (1000 class folders)
#   data/imagenet/val/<wnid>/<image>.JPEG   or  val/<image>.JPEG + meta/val.txt
#   data/imagenet/meta/{train,val}.txt (optional; "<relative path> <label>"
#     lines, used when present; labels index mmpretrain's IMAGENET_CATEGORIES,
#     i.e. the sorted wnids)

_base_ = ['./_eval_224px.py']

dataset_type = 'ImageNet'
data_root = 'data/imagenet'
num_classes = 1000

data_preprocessor = dict(num_classes=num_classes)
train_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root,
                 split='train'))
val_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root,
                 split='val'))
test_dataloader = val_dataloader
