# A tiny iBOT for tests and smoke runs: a 2-layer ViT on the generated
# toy-shapes images (64 px globals, 32 px locals), fp32, a few seconds per
# epoch on a CPU. Same code path as the ImageNet configs.
#   python tools/dataset_converters/make_toy_shapes.py --out data/toy_shapes_64 --size 64
#   python tools/train.py configs/ibot/ibot_vit-tiny-p16_1xb8-4e_toy-shapes-64px.py
_base_ = ['../_base_/models/ibot_vit-small-p16.py',
          '../_base_/datasets/toy-shapes-64px_bs8_ibot.py',
          '../_base_/schedules/toy-shapes_adamw-coslr-4e_ibot.py']

model = dict(
    backbone=dict(
        arch=dict(_delete_=True, embed_dims=64, num_layers=2, num_heads=2,
                  feedforward_channels=128),
        img_size=64),
    neck=dict(in_channels=64, hidden_channels=128, bottleneck_channels=32,
              out_channels=256),
    loss=dict(out_dim=256, patch_out_dim=256, num_local=2))
