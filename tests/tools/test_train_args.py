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


SSL_WRAPPERS = ('SSLOptimWrapper', 'SSLAmpOptimWrapper')


def _guards(cfg):
    return [h for h in cfg.get('custom_hooks', [])
            if h.get('type') == 'FiniteLossGuardHook']


def test_finite_loss_guard_is_on_for_every_ssl_config():
    """Issue 14: every shipped config with an SSL optimizer wrapper trains
    with the finite-loss guard (default: stop); others get none."""
    import glob
    paths = sorted(p for p in glob.glob(
        osp.join(REPO, 'configs', '**', '*.py'), recursive=True)
        if '_base_' not in p)
    ssl = 0
    for path in paths:
        cfg = Config.fromfile(path)
        if 'optim_wrapper' not in cfg:
            continue
        guards = _guards(merged(path))
        if cfg.optim_wrapper.get('type') in SSL_WRAPPERS:
            ssl += 1
            assert guards == [dict(type='FiniteLossGuardHook')], path
        else:
            assert guards == [], path
    assert ssl >= 10


def test_finite_loss_guard_entry_in_the_config_is_kept(tmp_path):
    cfg_path = tmp_path / 'skip.py'
    cfg_path.write_text(
        f'_base_ = [{IBOT!r}]\n'
        "custom_hooks = [dict(type='FiniteLossGuardHook', mode='skip', "
        'max_skips=3)]\n')
    assert _guards(merged(str(cfg_path))) == [
        dict(type='FiniteLossGuardHook', mode='skip', max_skips=3)]
    base = Config.fromfile(IBOT)
    hooks = merged(IBOT).custom_hooks
    assert hooks[:-1] == base.custom_hooks  # appended, others unchanged
