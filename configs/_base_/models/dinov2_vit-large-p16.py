# DINOv2 (Oquab et al., TMLR 2024) with a ViT-L/16, the base of [P]'s
# "DINOv2 + ours" rows (Wang et al., AAAI-26, Tables 4-8). Values from
# DINOv2's ssl_default_config.yaml (= its train/vitl16_short.yaml) unless
# marked otherwise; configs/dinov2/README.md lists every value and source.
#
# Head width: 2048 prototypes for [CLS] and patches -- our reading of [P]'s
# "d_equi = 512 of DINOv2's 2048-d head", so that DINOv2 and DINOv2 + ours
# differ only in d_equi. DINOv2's own recipe uses 65536 prototypes: set
# neck.out_channels=65536 (the loss sizes follow) to run it.
head_out = 2048
model = dict(
    type='DINOv2',
    # ibot.separate_head: false in the default recipe (its ViT-L/14 recipe
    # on LVD-142M: true) -> one shared iBOTNeck; True -> SeparateHeadsNeck
    separate_head=False,
    data_preprocessor=dict(
        # SelfSupDataPreprocessor + the host-made masked-token index
        type='iBOTDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=False),  # iBOTMultiCrop emits RGB
    backbone=dict(
        type='iBOTViT',
        arch='large',  # 1024 dims / 24 layers / 16 heads
        img_size=224,
        patch_size=16,  # [P]: ViT-L/16 (DINOv2's released models: /14)
        qkv_bias=True,
        layer_scale_init_value=1e-5,  # student.layerscale
        # student.drop_path_rate 0.3, the same in every block
        # (student.drop_path_uniform; mmpretrain's default ramps 0 -> 0.3)
        drop_path_rate=0.3,
        drop_path_uniform=True,
        num_register_tokens=0),  # student.num_register_tokens (reg4: 4)
    neck=dict(
        type='iBOTNeck',  # dino/ibot heads: 3 layers, 2048 hidden, 256
        in_channels=1024,
        hidden_channels=2048,
        bottleneck_channels=256,
        out_channels=head_out,
        shared_head=True,
        norm_last_layer=False),  # DINOv2's last-layer gain is trainable
    loss=dict(
        type='DINOv2Loss',
        out_dim=head_out,
        patch_out_dim=head_out,
        num_global=2,
        num_local=8,  # crops.local_crops_number
        student_temp=0.1,
        centering='sinkhorn_knopp',  # train.centering (3 iterations)
        sk_iterations=3,
        koleo_weight=0.1,  # dino.koleo_loss_weight
        lambda_cls=1.0,  # dino.loss_weight
        lambda_patch=1.0),  # ibot.loss_weight
)
