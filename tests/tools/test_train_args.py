"""tools/train.py's command line → config (no training)."""
import os.path as osp
import sys

import pytest
from mmengine.config import Config

from tests.conftest import DEMO_CFG, REPO

sys.path.insert(0, osp.join(REPO, 'tools'))
import train  # noqa: E402

IBOT = osp.join(REPO, 'configs', 'ibot',
                'ibot_vit-small-p16_8xb128-amp-coslr-800e_in1k.py')


def merged(config, *argv):
    args = train.parse_args([config, *argv])
    return train.merge_args(Config.fromfile(config), args)


def test_defaults_work_dir_and_resume(tmp_path):
    cfg = merged(DEMO_CFG)
    assert cfg.work_dir == osp.join(
        './work_dirs', 'resnet18_1xb32-6e_toy-shapes-32px')
    assert cfg.launcher == 'none' and not cfg.resume
    cfg = merged(DEMO_CFG, '--resume')
    assert cfg.resume is True and cfg.load_from is None
    ckpt = tmp_path / 'e.pth'
    ckpt.write_bytes(b'x')
    cfg = merged(DEMO_CFG, '--resume', str(ckpt))
    assert cfg.resume is True and cfg.load_from == str(ckpt)


def test_amp_maps_wrapper_types():
    assert merged(DEMO_CFG, '--amp').optim_wrapper.type == 'AmpOptimWrapper'
    cfg = merged(IBOT, '--cfg-options', 'optim_wrapper.type=SSLOptimWrapper',
                 'optim_wrapper.dtype=None', 'optim_wrapper.loss_scale=None')
    assert cfg.optim_wrapper.type == 'SSLOptimWrapper'
    cfg = merged(IBOT, '--amp', '--cfg-options',
                 'optim_wrapper.type=SSLOptimWrapper',
                 'optim_wrapper.dtype=None', 'optim_wrapper.loss_scale=None')
    assert cfg.optim_wrapper.type == 'SSLAmpOptimWrapper'
    assert cfg.optim_wrapper.loss_scale == 'dynamic'
    assert 'dtype' not in cfg.optim_wrapper
    with pytest.raises(ValueError, match='--amp needs'):
        merged(DEMO_CFG, '--amp', '--cfg-options',
               'optim_wrapper.type=ZeroRedundancyOptimizer')


def test_auto_scale_lr_and_persistent_workers():
    cfg = merged(IBOT, '--auto-scale-lr')
    assert cfg.auto_scale_lr == dict(base_batch_size=1024, enable=True)
    with pytest.raises(ValueError, match='base_batch_size'):
        merged(DEMO_CFG, '--auto-scale-lr', '--cfg-options',
               'auto_scale_lr.base_batch_size=0')
    cfg = merged(DEMO_CFG, '--cfg-options', 'train_dataloader.num_workers=0',
                 'train_dataloader.persistent_workers=True')
    assert cfg.train_dataloader.persistent_workers is False


def test_no_validate():
    cfg = merged(DEMO_CFG, '--no-validate')
    assert cfg.val_cfg is None and cfg.val_dataloader is None
