# What the demo's probes change on the embedded toy 3DIEBench (64 px renders,
# 10 views per object, 80 held-out objects; variables only):
# * the backbone is the demo's small ViT (configs/_base_/models/toy_vit.py),
# * the MLP probes are 256 wide instead of SIE's 1024 (a ~10x cheaper step
#   on a CPU; the real-data configs keep 1024),
# * every head's input is standardised (input_norm: BatchNorm without
#   affine, as MAE's linear probe): after a few CPU minutes of pretraining
#   the features are far from unit scale and an Adam-trained probe of 30
#   epochs would stay far from its optimum (the linear probe of the demo's
#   iBOT reached 20 % top-1 without it, 26 % with it, and 30 % for a
#   converged logistic regression on standardised features),
# * 30 epochs, batch 128,
# * the probed feature is the backbone's [CLS] token and its mean patch
#   token, concatenated (the reconstruction acts on the patch tokens, iBOT's
#   losses on both), named in the benchmark's table.
toy_data_root = 'data/toy_3diebench'
toy_num_views = 10
toy_img_size = 64
toy_probe_epochs = 30
toy_mlp_probe = dict(type='MLPNeck', hidden_channels=256, num_layers=3,
                     norm_cfg=None, act='ReLU')
toy_batch_size = 128
toy_input_norm = True
toy_feature = 'cls_mean_patch'
