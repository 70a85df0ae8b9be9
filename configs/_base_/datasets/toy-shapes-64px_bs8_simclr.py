# The toy-shapes loader of toy-shapes-64px_bs8_ibot.py with the two SimCLR
# views of imagenet_bs128_simclr.py at 64 px.
_base_ = ['./toy-shapes-64px_bs8_ibot.py']

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='iBOTMultiCrop', global_size=64, num_local=0,
         global_scale=(0.08, 1.0), jitter_prob=0.8, brightness=0.8,
         contrast=0.8, saturation=0.8, hue=0.2, gray_prob=0.2,
         blur_probs=(0.5, 0.5, 0.0), solarize_probs=(0.0, 0.0, 0.0)),
    dict(type='PackInputs', algorithm_keys=['crop_params'],
         meta_keys=['img_path']),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
