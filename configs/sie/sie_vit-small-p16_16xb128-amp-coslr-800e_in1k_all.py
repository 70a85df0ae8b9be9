# SIE(all), ViT-S/16 (paper Table 1 row "SIE(all)"): g_θ = the four tasks
# at once, applied in this order (the order is ours, not published):
# rotation, colour jitter, blur, translation, each with its Table 2 range;
# θ = their 1 + 4 + 1 + 2 = 8 parameters, the predictor's condition. ("all"
# here is the conditioning; the augmentation is the usual pipeline, as in
# every row.)
_base_ = ['./sie_vit-small-p16_16xb128-amp-coslr-800e_in1k_rot.py']

model = dict(data_preprocessor=dict(
    transform=dict(_delete_=True, type='compose', transforms=[
        dict(type='rotation', max_angle=45.0),
        dict(type='color', brightness=0.4, contrast=0.4, saturation=0.4,
             hue=0.1),
        dict(type='blur', sigma=(0.1, 2.0)),
        dict(type='translation', max_shift=10.0),
    ])))
