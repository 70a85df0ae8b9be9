"""Every config parses, declares its scope and mmequi, and builds its model
(ViT-L ones on the meta device: shapes only; training steps are tested per
config family in the other files of this folder).

The README's minimal example config is checked the same way.
"""
import glob
import os.path as osp
import re
import shutil

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from tests.conftest import REPO

CONFIGS = sorted(
    p for p in glob.glob(osp.join(REPO, 'configs', '**', '*.py'),
                         recursive=True) if '_base_' not in p)


def _build_model(cfg: Config, device: str = 'cpu'):
    init_default_scope(cfg.default_scope)
    registry = {
        'mmpretrain': 'mmpretrain.registry',
        'mmseg': 'mmseg.registry',
        'mmdet': 'mmdet.registry',
        'mmpose': 'mmpose.registry',
    }[cfg.default_scope]
    models = __import__(registry, fromlist=['MODELS']).MODELS
    with torch.device(device):
        return models.build(cfg.model)


@pytest.mark.parametrize('path', CONFIGS,
                         ids=[osp.relpath(p, REPO) for p in CONFIGS])
def test_config_builds(path):
    cfg = Config.fromfile(path)
    assert cfg.default_scope in ('mmpretrain', 'mmseg', 'mmdet', 'mmpose')
    assert cfg.custom_imports == dict(imports=['mmequi'],
                                      allow_failed_imports=False)
    # ViT-L models on the meta device (no memory, shapes only)
    model = _build_model(cfg, 'meta' if 'vit-large' in path else 'cpu')
    assert sum(p.numel() for p in model.parameters()) > 0


def test_configs_with_epoch_seed_hook_resume_exactly():
    """Issue 14: a config with EpochSeedHook (epoch k draws the same
    augmentations with or without --resume, README "Seeds and determinism")
    has a train loader the hook accepts without a warning: no persistent
    workers, epoch_worker_init_fn when it has workers."""
    from types import SimpleNamespace

    from mmequi.engine.hooks import EpochSeedHook

    class Log:
        def warning(self, msg):
            raise AssertionError(msg)

    checked = 0
    for path in CONFIGS:
        cfg = Config.fromfile(path)
        hooks = [h.get('type') for h in cfg.get('custom_hooks') or []]
        if 'EpochSeedHook' not in hooks or 'train_dataloader' not in cfg:
            continue
        runner = SimpleNamespace(seed=cfg.randomness.seed, cfg=cfg,
                                 logger=Log())
        try:
            EpochSeedHook().before_train(runner)
        except (AssertionError, ValueError) as e:
            raise AssertionError(f'{osp.relpath(path, REPO)}: {e}') from e
        checked += 1
    assert checked >= 50


def test_readme_minimal_config(tmp_path):
    readme = open(osp.join(REPO, 'README.md')).read()
    block = re.search(r'```python\n(# configs/my_config.py.*?)```', readme,
                      re.S)
    assert block is not None
    shutil.copytree(osp.join(REPO, 'configs', '_base_'),
                    tmp_path / 'configs' / '_base_')
    path = tmp_path / 'configs' / 'my_config.py'
    path.write_text(block.group(1))
    cfg = Config.fromfile(str(path))
    assert cfg.default_scope == 'mmpretrain'
    assert {'type': 'EpochSeedHook'} in cfg.custom_hooks
    assert _build_model(cfg).head.fc.out_features == 4
