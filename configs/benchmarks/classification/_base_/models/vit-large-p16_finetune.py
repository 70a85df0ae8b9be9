# ViT-L/16 end-to-end fine-tuning: vit-small-p16_finetune.py with MAE's
# ViT-L settings (mmpretrain 1.2.0 configs/mae/benchmarks/
# vit-large-p16_8xb128-coslr-50e_in1k.py; MAE Table 11): drop path 0.2
# (the config sets lr 4e-3 and layer decay 0.75).
_base_ = ['./vit-small-p16_finetune.py']
pretrained_backbone = ('<unset: pass --cfg-options '
                       'model.backbone.init_cfg.checkpoint=/path/to/'
                       'vit-large_backbone.pth>')
model = dict(
    backbone=dict(
        arch='large',  # ViT-L/16: 1024 dims, 24 blocks, 16 heads
        drop_path_rate=0.2,
        init_cfg=dict(type='Pretrained', checkpoint=pretrained_backbone)),
    head=dict(in_channels=1024))
# the training pipeline, as ViT-S/16 (a config takes it with
#   train_dataloader = dict(dataset=dict(pipeline={{_base_.ft_train_pipeline}})))
ft_train_pipeline = {{_base_.ft_train_pipeline}}
