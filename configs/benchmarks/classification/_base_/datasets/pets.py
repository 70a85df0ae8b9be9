# Oxford-IIIT Pets (37 breeds), mmpretrain `OxfordIIITPet`: train on
# trainval (3,680), evaluate on test (3,669). Layout::
#   data/Oxford-IIIT_Pets/images/<Breed_name>_<n>.jpg
#   data/Oxford-IIIT_Pets/annotations/{trainval,test}.txt
#     ("<image> <class id 1..37> <species> <breed id>" lines)

_base_ = ['./_eval_224px.py']

dataset_type = 'OxfordIIITPet'
data_root = 'data/Oxford-IIIT_Pets'
num_classes = 37

data_preprocessor = dict(num_classes=num_classes)
train_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root,
                 split='trainval'))
val_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root,
                 split='test'))
test_dataloader = val_dataloader
