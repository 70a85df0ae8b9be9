# Food-101 (101 classes), mmpretrain `Food101`: train on train (75,750),
# evaluate on test (25,250). Layout::
#   data/food-101/images/<class>/<id>.jpg
#   data/food-101/meta/{train,test}.txt ("<class>/<id>" lines)

_base_ = ['./_eval_224px.py']

dataset_type = 'Food101'
data_root = 'data/food-101'
num_classes = 101

data_preprocessor = dict(num_classes=num_classes)
train_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root,
                 split='train'))
val_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root,
                 split='test'))
test_dataloader = val_dataloader
