# VICReg + ours (the paper's Table 1 setting, SIE-style even split of the
# embedding) at the scale of the one-GPU experiment: the same ViT "mini"
# (192 dims, 6 layers, 3 heads), 128 px toy renders, GPU data path, batch
# 256, 68 epochs (~2,500 iterations) and rotation targets as
# ibot-equi_vit-mini-p16_1xb256-amp-68e_toy-3diebench-128px_all-rot.py;
# two global views (no local crops), VICReg's photometric recipe (blur
# 1.0 / 0.1, solarize 0 / 0.2); projector 192 -> 1024 -> 256 (LN), split
# 128 / 128 (d_equi = 128), expander 128 -> 1024 -> 1024; lr 1e-4 x B / 256
# (the paper's VICReg recipe), AdamW, weight decay 0.05, 5 warm-up epochs,
# cosine. Run by tools/benchmarks/gpu_equivariance_experiment.sh with
# ARMS=all; not run by us yet (no GPU lent).
# Control arm: vicreg-equi-ctrl_vit-mini-p16_1xb256-amp-68e_toy-3diebench-128px_all-rot.py
_base_ = ['./vicreg-equi_vit-small-p16_8xb128-amp-coslr-100e_in1k_all-rot.py',
          '../_base_/datasets/toy-3diebench-128px_bs256_gpu.py']

img_size = 128
embed = 256
d_equi = 128
model = dict(
    data_preprocessor=dict(
        _delete_=True,
        type='BatchMultiCropDataPreprocessor',
        multi_crop=dict(global_size=img_size, num_local=0,
                        global_scale=(0.25, 1.0), blur_probs=(1.0, 0.1, 0.0),
                        solarize_probs=(0.0, 0.2, 0.0)),
        # the method's preprocessor of the base config (to_rgb=False:
        # InMemoryDataset holds RGB)
        preprocessor={{_base_.model.data_preprocessor}}),
    backbone=dict(arch=dict(_delete_=True, embed_dims=192, num_layers=6,
                            num_heads=3, feedforward_channels=768),
                  img_size=img_size, drop_path_rate=0.1),
    projector=dict(in_channels=192, hidden_channels=1024, out_channels=embed),
    expander=dict(hidden_channels=1024, out_channels=1024,
                  norm_cfg=dict(type='BN1d')),  # in: embed - d_equi
    head=dict(d_equi=d_equi,
              decoder=dict(type='ReconDecoder', patch_size=16,
                           channels=(16, 32, 32, 16))))
train_dataloader = {{_base_.toy128_gpu_train_dataloader}}

max_epochs = 68
warmup_epochs = 5
optim_wrapper = dict(optimizer=dict(lr=1e-4))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-9, by_epoch=True, begin=0,
         end=warmup_epochs, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=1e-6, by_epoch=True,
         begin=warmup_epochs, end=max_epochs, convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=max_epochs)
auto_scale_lr = dict(base_batch_size=256)
custom_hooks = [dict(type='EpochSeedHook')]
randomness = dict(diff_rank_seed=True)
default_hooks = dict(logger=dict(type='LoggerHook', interval=50),
                     checkpoint=dict(type='CheckpointHook',
                                     interval=max_epochs, max_keep_ckpts=1))
