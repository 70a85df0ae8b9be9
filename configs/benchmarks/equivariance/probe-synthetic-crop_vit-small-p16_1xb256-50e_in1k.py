# The leak-free variant of probe-synthetic_vit-small-p16_1xb256-50e_in1k.py
# (same four families, ranges, heads and schedule): each image is resized
# to 320 px (short edge) and centre-cropped to 320 x 320, g_θ acts on that
# canvas, and every view -- I and g_θ(I) -- is its central 224 x 224 window
# (protocol='crop'), which no zero fill reaches for φ in ±45° and shifts in
# ±10 px (the largest leak-free window of a 320 px canvas is 226 px for
# rotation, 300 px for translation). The views keep the 224 px scale of the
# paper's protocol; only the fill region is gone.
# Metric names carry the protocol: r2_crop/<task>_sie.
_base_ = ['./probe-synthetic_vit-small-p16_1xb256-50e_in1k.py']

canvas = 320
model = dict(data_preprocessor=dict(protocol='crop', crop_size=224,
                                    out_size=224))
pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=canvas, edge='short',
         interpolation='bicubic'),
    dict(type='CenterCrop', crop_size=canvas),
    dict(type='PackInputs', meta_keys=['img_path', 'sample_idx']),
]
train_dataloader = dict(dataset=dict(pipeline=pipeline))
val_dataloader = dict(dataset=dict(pipeline=pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(protocol='crop')
test_evaluator = val_evaluator
