# The toy-shapes loader of toy-shapes-64px_bs8_ibot.py with VICReg's two
# global 64 px views (no local crops; blur 1.0 / 0.1, solarize 0 / 0.2).
_base_ = ['./toy-shapes-64px_bs8_ibot.py']

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='iBOTMultiCrop', global_size=64, num_local=0,
         global_scale=(0.25, 1.0), blur_probs=(1.0, 0.1, 0.0),
         solarize_probs=(0.0, 0.2, 0.0)),
    dict(type='PackInputs', algorithm_keys=['crop_params'],
         meta_keys=['img_path']),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
