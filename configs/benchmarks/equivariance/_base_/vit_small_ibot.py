# The probed backbone: iBOT's ViT-S/16 (the teacher of an mmequi iBOT or
# iBOT + ours run: point backbone_checkpoint at its .pth; for an exported
# backbone use prefix='backbone.'), its [CLS] token after the final norm.
model = dict(
    type='EquivarianceProbe',
    backbone=dict(type='iBOTViT', arch='deit-small', img_size=224,
                  patch_size=16, qkv_bias=True, drop_path_rate=0.0),
    feature='cls',  # or 'mean_patch' / 'cls_mean_patch'
    backbone_checkpoint=None,  # --cfg-options model.backbone_checkpoint=...
    prefix='teacher.backbone.',
    dummy_size=224,
    cache_features=True,
    data_preprocessor=dict(type='ProbeDataPreprocessor',
                           mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375],
                           to_rgb=True))  # images are loaded BGR
