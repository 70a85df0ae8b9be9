# iNaturalist 2018 (8,142 species), mmequi `INaturalist2018` (mmpretrain
# 1.2.0 has no iNat class): train on train2018 (437,513), evaluate on
# val2018 (24,426); label = category_id. Layout (official release)::
#   data/inat18/train2018.json, data/inat18/val2018.json   (COCO-style)
#   data/inat18/train_val2018/<supercategory>/<category_id>/<hash>.jpg

_base_ = ['./_eval_224px.py']

dataset_type = 'INaturalist2018'
data_root = 'data/inat18'
num_classes = 8142

data_preprocessor = dict(num_classes=num_classes)
train_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root,
                 split='train'))
val_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root,
                 split='val'))
test_dataloader = val_dataloader
