# iBOT (Zhou et al., ICLR 2022) with a ViT-S/16: the official ViT-S/16
# recipe's model (bytedance/ibot README + main_ibot.py); every value and its
# source: configs/ibot/README.md. The loss's num_local must match the
# pipeline's (10 in _base_/datasets/imagenet_bs128_ibot.py).
model = dict(
    type='iBOT',
    data_preprocessor=dict(
        # SelfSupDataPreprocessor + the masked-token index made on the host
        # (no device->host sync in the step; same values)
        type='iBOTDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=False),  # iBOTMultiCrop already emits RGB
    backbone=dict(
        type='iBOTViT',
        arch='deit-small',  # 384 dims / 12 layers / 6 heads (NOT 'small')
        img_size=224,
        patch_size=16,
        qkv_bias=True,
        drop_path_rate=0.1),  # student only; the teacher gets 0
    neck=dict(
        type='iBOTNeck',
        in_channels=384,
        hidden_channels=2048,
        bottleneck_channels=256,
        out_channels=8192,
        shared_head=True,
        norm_last_layer=False),
    loss=dict(
        type='iBOTLoss',
        out_dim=8192,
        patch_out_dim=8192,
        num_global=2,
        num_local=10,
        student_temp=0.1,
        center_momentum=0.9,
        center_momentum2=0.9,
        lambda_cls=1.0,
        lambda_patch=1.0),
)
