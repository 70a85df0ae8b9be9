"""iBOT data pipeline end to end through mmpretrain/mmengine."""
import random

import cv2
import numpy as np
import torch
import torchvision.transforms.v2.functional as TF
from mmcv.transforms import Compose
from mmengine.dataset import default_collate

from mmpretrain.registry import TRANSFORMS
from mmpretrain.structures import DataSample

from ._helpers import textured_bgr


def test_load_crop_mask_pack_collate(tmp_path):
    path = str(tmp_path / 'img.png')
    img = textured_bgr(70, 90, seed=4)
    assert cv2.imwrite(path, img)
    pipeline = Compose([
        TRANSFORMS.build(cfg) for cfg in [
            dict(type='LoadImageFromFile'),
            dict(type='iBOTMultiCrop', global_size=32, local_size=16,
                 num_local=3, photometric=False),
            dict(type='iBOTBlockMaskGenerator', patch_size=8),
            dict(type='PackInputs', algorithm_keys=['crop_params']),
        ]
    ])
    np.random.seed(0)
    random.seed(0)
    samples = [pipeline(dict(img_path=path)) for _ in range(2)]
    batch = default_collate(samples)

    inputs = batch['inputs']
    assert isinstance(inputs, list) and len(inputs) == 5
    for i, view in enumerate(inputs):
        size = 32 if i < 2 else 16
        assert view.dtype == torch.uint8
        assert tuple(view.shape) == (2, 3, size, size)
    data_samples = batch['data_samples']
    assert len(data_samples) == 2
    rgb = torch.from_numpy(img[..., ::-1].copy()).permute(2, 0, 1)
    for b, ds in enumerate(data_samples):
        assert isinstance(ds, DataSample)
        assert tuple(ds.mask.shape) == (2, 4, 4)
        assert ds.mask.dtype == torch.bool
        params = ds.crop_params
        assert params.shape == (5, 5)
        # the packed views are the RGB crops the params describe
        for i, p in enumerate(np.asarray(params)):
            x0, y0, w, h, flipped = (int(v) for v in p)
            ref = TF.resize(rgb[:, y0:y0 + h, x0:x0 + w],
                            [inputs[i].shape[-1]] * 2,
                            interpolation=TF.InterpolationMode.BICUBIC,
                            antialias=True)
            if flipped:
                ref = TF.horizontal_flip(ref)
            assert torch.equal(inputs[i][b], ref)
        assert ds.img_path == path
