"""The ``_gpu-aug_`` configs (colour ops of the multi-crop on the device):
the same recipe as their CPU-path configs, value for value, split between
the loader and BatchPhotometricDataPreprocessor."""
import copy
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmpretrain.registry import MODELS

from mmequi.models.data_preprocessors.batch_photometric import \
    PHOTOMETRIC_KEYS
from mmequi.utils import synthetic_batch, train_pipeline
from tests.conftest import REPO

PAIRS = [
    ('configs/ibot/ibot_vit-small-p16_8xb128-amp-coslr-800e_in1k.py',
     'configs/ibot/ibot_vit-small-p16_8xb128-amp-coslr-800e_gpu-aug_in1k.py'),
    ('configs/equi_recon/ibot-equi_vit-small-p16_8xb128-amp-coslr-800e_'
     'in1k_all-rot.py',
     'configs/equi_recon/ibot-equi_vit-small-p16_8xb128-amp-coslr-800e_'
     'gpu-aug_in1k_all-rot.py'),
]


def _multi_crop(cfg):
    return next(t for t in train_pipeline(cfg)
                if t['type'] == 'iBOTMultiCrop')


def _without(cfg_dict, keys):
    return {k: v for k, v in cfg_dict.items() if k not in keys}


@pytest.mark.parametrize('cpu_path, gpu_path', PAIRS,
                         ids=[osp.basename(p[1])[:-3] for p in PAIRS])
def test_same_recipe_split_between_loader_and_device(cpu_path, gpu_path):
    cpu = Config.fromfile(osp.join(REPO, cpu_path))
    gpu = Config.fromfile(osp.join(REPO, gpu_path))
    crop_cpu, crop_gpu = _multi_crop(cpu), _multi_crop(gpu)
    assert crop_gpu['photometric'] is False
    assert crop_cpu.get('photometric', True) is True
    # the loader's geometry is the CPU recipe's
    assert _without(crop_gpu, ('photometric', )) == _without(
        crop_cpu, PHOTOMETRIC_KEYS)
    pre = gpu.model.data_preprocessor
    assert pre.type == 'BatchPhotometricDataPreprocessor'
    # the device's colour ops are the CPU recipe's
    assert pre.photometric == {k: crop_cpu[k] for k in PHOTOMETRIC_KEYS
                               if k in crop_cpu}
    assert pre.preprocessor == cpu.model.data_preprocessor
    # everything else in the pipeline and the config is unchanged
    assert [t for t in train_pipeline(gpu) if t['type'] != 'iBOTMultiCrop'] \
        == [t for t in train_pipeline(cpu) if t['type'] != 'iBOTMultiCrop']
    for key in ('optim_wrapper', 'param_scheduler', 'custom_hooks',
                'train_cfg'):
        assert gpu.get(key) == cpu.get(key), key
    assert _without(gpu.model, ('data_preprocessor', )) == _without(
        cpu.model, ('data_preprocessor', ))


@pytest.mark.parametrize('gpu_path', [p[1] for p in PAIRS],
                         ids=[osp.basename(p[1])[:-3] for p in PAIRS])
def test_data_preprocessor_makes_the_model_inputs(gpu_path):
    """The loader's views (batch 2) through the config's data
    preprocessor: 2 + 10 normalised views of the recipe's sizes (and the
    method's K targets with θ recorded)."""
    cfg = Config.fromfile(osp.join(REPO, gpu_path))
    init_default_scope('mmpretrain')
    pre = MODELS.build(cfg.model.data_preprocessor)
    data = synthetic_batch(cfg, 2)
    assert [v.dtype for v in data['inputs']] == [torch.uint8] * 12
    torch.manual_seed(0)
    out = pre(copy.deepcopy(data), True)
    views = out['inputs']['views'] if isinstance(out['inputs'], dict) \
        else out['inputs']
    assert [tuple(v.shape) for v in views] == \
        [(2, 3, 224, 224)] * 2 + [(2, 3, 96, 96)] * 10
    assert all(v.dtype == torch.float32 for v in views)
    if 'equi' in gpu_path:
        assert out['inputs']['targets'].shape == (2, 2, 3, 224, 224)
        assert all('equi_theta' in ds for ds in out['data_samples'])
