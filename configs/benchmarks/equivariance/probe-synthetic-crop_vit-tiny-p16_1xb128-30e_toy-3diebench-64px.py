# The leak-free synthetic probes on the toy set: rotation and translation as
# in probe-synthetic_vit-tiny-p16_1xb128-30e_toy-3diebench-64px.py (the
# paper's ranges, held-out renders), but under the 'crop' protocol: every
# view -- I and g_θ(I) -- is the central window of the (transformed) 64 px
# render that no zero fill can reach for φ in ±45° and shifts in ±10 px
# (43 px, resampled to 64 px in the same bilinear step). A rotation turns
# the render under the window, a translation moves the window. Encoders
# blind to orientation score R²(rot) ≈ 0 here (0.80 for a random ViT under
# zero fill); tests/models/data_preprocessors/test_probe_data_preprocessor.py.
# Metric names carry the protocol: r2_crop/rot_sie, r2_crop/trans_sie.
_base_ = ['./probe-synthetic_vit-tiny-p16_1xb128-30e_toy-3diebench-64px.py']

# the toy probes' 256-wide MLP (SIE's probe MLP of _base_/probe_runtime.py,
# narrowed as _base_/toy_3diebench.py says); tasks are replaced whole here
toy_mlp_probe = dict(type='MLPNeck', hidden_channels=256, num_layers=3,
                     norm_cfg=None, act='ReLU')
model = dict(
    num_views=3,  # window of I, of g_rot(I), of g_trans(I)
    tasks=dict(
        _delete_=True,
        rot=dict(views=(0, 1), target='probe_rot', out_channels=1,
                 head=toy_mlp_probe),
        trans=dict(views=(0, 2), target='probe_trans', out_channels=2,
                   head=toy_mlp_probe)),
    data_preprocessor=dict(
        transforms=dict(_delete_=True,
                        rot=dict(type='rotation', max_angle=45.0),
                        trans=dict(type='translation', max_shift=10.0)),
        protocol='crop'))
val_evaluator = dict(type='EquivarianceR2', tasks=['rot', 'trans'],
                     protocol='crop')
test_evaluator = val_evaluator
