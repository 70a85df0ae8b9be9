# A tiny SIE(all) for tests and smoke runs on generated 64 px images: the
# model of sie_vit-small-p16_16xb128-amp-coslr-800e_in1k_all.py (SIE
# conditioned on the θ of rotation + colour + blur + translation) scaled
# down to a 2-layer ViT, with the optimisation of the tiny VICReg + ours
# (../equi_recon/vicreg-equi_vit-tiny-p16_1xb8-4e_toy-shapes-64px_all-rot.py).
_base_ = ['../_base_/models/sie_vit-small-p16.py',
          '../_base_/datasets/toy-shapes-64px_bs8_vicreg.py',
          '../_base_/schedules/toy-shapes_adamw-coslr-4e_vicreg.py',
          './_base_/sie_runtime.py']

model = dict(
    data_preprocessor=dict(transform=dict(_delete_=True, type='compose')),
    backbone=dict(
        arch=dict(_delete_=True, embed_dims=64, num_layers=2, num_heads=2,
                  feedforward_channels=128),
        img_size=64),
    projector=dict(in_channels=64, hidden_channels=128, out_channels=64),
    inv_projector=dict(in_channels=32, hidden_channels=128,
                       out_channels=128),
    equi_projector=dict(in_channels=32, hidden_channels=64,
                        out_channels=32),
    predictor=dict(embed_dims=32, hidden_channels=16),
    d_inv=32)

default_hooks = dict(logger=dict(type='LoggerHook', interval=1))
