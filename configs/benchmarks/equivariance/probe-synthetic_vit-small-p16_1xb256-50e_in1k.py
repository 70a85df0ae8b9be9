# Synthetic transformation prediction (Wang et al., AAAI-26, Table 1): for a
# held-out image I and each family g in {rotation, colour, blur,
# translation} with parameters θ ~ U(paper ranges), an MLP on the frozen
# features of (I, g_θ(I)) predicts θ (rescaled to [-1, 1]); R² per family.
# θ is a fixed function of (seed, sample index), so every run sees the same
# pairs. Works on any ImageNet-layout folder (every image under
# data_prefix, recursively). 50 epochs (the seed poster's probe length).
_base_ = ['./_base_/probe_runtime.py', './_base_/vit_small_ibot.py']

data_root = 'data/imagenet'
img_size = 224
probe_epochs = 50
mlp_probe = {{_base_.mlp_probe}}  # SIE's probe MLP, one per task
# the paper's ranges (Table 2); pixel values are at 224 px
transforms = dict(
    rot=dict(type='rotation', max_angle=45.0),
    color=dict(type='color', brightness=0.4, contrast=0.4, saturation=0.4,
               hue=0.1),
    blur=dict(type='blur', sigma=(0.1, 2.0)),
    trans=dict(type='translation', max_shift=10.0))
model = dict(
    num_views=5,  # I, g_rot(I), g_color(I), g_blur(I), g_trans(I)
    tasks=dict(
        rot=dict(views=(0, 1), target='probe_rot', out_channels=1,
                 head=mlp_probe),
        color=dict(views=(0, 2), target='probe_color', out_channels=4,
                   head=mlp_probe),
        blur=dict(views=(0, 3), target='probe_blur', out_channels=1,
                  head=mlp_probe),
        trans=dict(views=(0, 4), target='probe_trans', out_channels=2,
                   head=mlp_probe)),
    data_preprocessor=dict(type='TransformProbeDataPreprocessor',
                           transforms=transforms, seed=0))
pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=256, edge='short', interpolation='bicubic'),
    dict(type='CenterCrop', crop_size=img_size),
    dict(type='PackInputs', meta_keys=['img_path', 'sample_idx']),
]
train_dataloader = dict(dataset=dict(
    type='CustomDataset', data_root=data_root, data_prefix='train',
    with_label=False, pipeline=pipeline))
val_dataloader = dict(dataset=dict(
    type='CustomDataset', data_root=data_root, data_prefix='val',
    with_label=False, pipeline=pipeline, test_mode=True))
test_dataloader = val_dataloader
val_evaluator = dict(type='EquivarianceR2',
                     tasks=['rot', 'color', 'blur', 'trans'])
test_evaluator = val_evaluator
train_cfg = dict(max_epochs=probe_epochs, val_interval=probe_epochs)
default_hooks = dict(checkpoint=dict(interval=probe_epochs))
