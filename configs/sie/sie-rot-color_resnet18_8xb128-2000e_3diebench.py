# SIE conditioned on rotation + colour (the paper's "SIE, rotation + color"
# variant): g = [rot_quat (4) ; color_diff (2)] (floor hue and spot-light
# hue changes), otherwise as sie_resnet18_8xb128-2000e_3diebench.py.
_base_ = ['./sie_resnet18_8xb128-2000e_3diebench.py']

model = dict(
    predictor=dict(group_dims=6),
    condition='rot_color')
