# Oxford Flowers-102, mmpretrain `Flowers102`: train on trainval (train +
# val, 2,040), evaluate on test (6,149). Layout::
#   data/Flowers102/jpg/image_{00001..08189}.jpg
#   data/Flowers102/imagelabels.mat   (labels 1..102, one per image)
#   data/Flowers102/setid.mat         (trnid / valid / tstid, 1-based ids)

_base_ = ['./_eval_224px.py']

dataset_type = 'Flowers102'
data_root = 'data/Flowers102'
num_classes = 102

data_preprocessor = dict(num_classes=num_classes)
train_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root,
                 split='trainval'))
val_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root,
                 split='test'))
test_dataloader = val_dataloader
