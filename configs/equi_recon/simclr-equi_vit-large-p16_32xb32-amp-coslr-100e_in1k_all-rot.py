# SimCLR + ours, ViT-L/16, ImageNet-1k (paper Table 4 row "SimCLR + ours"),
# batch 32 x 32 = 1024. The paper publishes neither the split nor the
# schedule of this row: both are ours (see the model and schedule files).
_base_ = ['../_base_/models/simclr-equi_vit-large-p16.py',
          '../_base_/datasets/imagenet_bs128_simclr.py',
          '../_base_/schedules/imagenet_bs1024_adamw-coslr-100e_simclr.py',
          './_base_/vicreg-equi_runtime.py']

train_dataloader = dict(batch_size=32)
