# FGVC-Aircraft 2013b (variants, 100 classes), mmpretrain `FGVCAircraft`:
# train on trainval (6,667), evaluate on test (3,333). Layout::
#   data/fgvc-aircraft-2013b/data/images/<7-digit id>.jpg
#   data/fgvc-aircraft-2013b/data/images_variant_{trainval,test}.txt
#     ("<id> <variant name>" lines; names as FGVCAIRCRAFT_CATEGORIES)

_base_ = ['./_eval_224px.py']

dataset_type = 'FGVCAircraft'
data_root = 'data/fgvc-aircraft-2013b'
num_classes = 100

data_preprocessor = dict(num_classes=num_classes)
train_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root,
                 split='trainval'))
val_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root,
                 split='test'))
test_dataloader = val_dataloader
