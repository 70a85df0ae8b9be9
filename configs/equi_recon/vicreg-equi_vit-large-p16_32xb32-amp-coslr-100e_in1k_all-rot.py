# VICReg + ours, ViT-L/16, batch 32 x 32 (see the ViT-S config for the
# recipe; the schedule is our choice, not published).
_base_ = ['./vicreg-equi_vit-small-p16_8xb128-amp-coslr-100e_in1k_all-rot.py']

model = dict(
    backbone=dict(arch='large'),  # 1024 dims / 24 layers / 16 heads
    projector=dict(in_channels=1024))
train_dataloader = dict(batch_size=32)
