# A tiny [X] cross-attention reconstruction for tests and smoke runs on
# generated 64 px images: the model of
# cross-attn-recon_vit-small-p16_16xb128-amp-coslr-800e_in1k.py scaled down
# to a 2-layer ViT on 64 px views (4 x 4 tokens), with the toy VICReg
# schedule (fp32 AdamW at batch 8 over 4 epochs).
_base_ = ['../_base_/models/cross-attn-recon_vit-small-p16.py',
          '../_base_/datasets/toy-shapes-64px_bs8_vicreg.py',
          '../_base_/schedules/toy-shapes_adamw-coslr-4e_vicreg.py',
          './_base_/cross-attn-recon_runtime.py']

model = dict(
    backbone=dict(
        arch=dict(_delete_=True, embed_dims=64, num_layers=2, num_heads=2,
                  feedforward_channels=128),
        img_size=64),
    projector=dict(in_channels=64, hidden_channels=128, out_channels=64),
    expander=dict(hidden_channels=128,  # in_channels: 64 - d_equi
                  out_channels=128),
    d_equi=32,
    decoder=dict(embed_dims=32, num_heads=2))
default_hooks = dict(logger=dict(type='LoggerHook', interval=1))
