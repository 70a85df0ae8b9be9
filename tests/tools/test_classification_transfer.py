"""Classification transfer end to end through ``tools/train.py`` on CPU, on
tiny generated datasets in each dataset's real on-disk format
(mmequi.testing.classification), 32 px images, batch 2, 2 iterations +
validation:

* every dataset's ViT-S linear-probe config: the ImageNet one with the real
  ViT-S/16 (frozen: the saved backbone equals the export, the head trained;
  the export loads without key mismatch), the others with a 2-block ViT
  (the point there is the data format and the pipeline);
* the ImageNet fine-tuning config (layer decay, Mixup/CutMix, RandAugment,
  RandomErasing) with the 2-block ViT: it starts from the export and
  updates the backbone.

Metrics (accuracy/top1, accuracy/top5) must be finite percentages.
"""
import glob
import json
import math
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmpretrain.models import VisionTransformer
from mmpretrain.models.utils import resize_pos_embed

from mmequi.testing.classification import make_classification_fixture
from tests.conftest import REPO, run_tool, train_cmd

pytestmark = pytest.mark.slow

CFG_DIR = osp.join(REPO, 'configs', 'benchmarks', 'classification')
SIZE = 32  # image side / backbone img_size
TINY = dict(embed_dims=64, num_layers=2, num_heads=2,
            feedforward_channels=128)
# config suffix -> dataset base config / fixture name
DATASETS = {
    'in1k': 'imagenet', 'cifar10': 'cifar10', 'cifar100': 'cifar100',
    'aircraft': 'aircraft', 'pets': 'pets', 'food101': 'food101',
    'flowers102': 'flowers102', 'inat18': 'inat18'
}


def _export(path: str, arch, seed: int) -> dict:
    """A backbone export (contract format) with random values everywhere."""
    torch.manual_seed(seed)
    sd = VisionTransformer(arch=arch, img_size=224,
                           patch_size=16).state_dict()
    sd = {k: torch.randn_like(v) * 0.02 + (1.0 if k.endswith(
        ('ln1.weight', 'ln2.weight')) else 0.0) for k, v in sd.items()}
    torch.save({'state_dict': sd, 'meta': {}}, path)
    return sd


@pytest.fixture(scope='module')
def exports(tmp_path_factory):
    d = tmp_path_factory.mktemp('exports')
    s, t = str(d / 'vit-s.pth'), str(d / 'vit-tiny2.pth')
    return dict(small=(s, _export(s, 'deit-small', 0)),
                tiny=(t, _export(t, TINY, 1)))


def _size_options(cfg: Config) -> list:
    """Shrink every crop / resize of the config's pipelines to SIZE."""
    opts = [f'model.backbone.img_size={SIZE}']
    loaders = [('train_dataloader', cfg.train_dataloader),
               ('val_dataloader', cfg.val_dataloader),
               ('test_dataloader', cfg.test_dataloader)]
    for name, loader in loaders:
        for i, t in enumerate(loader.dataset.pipeline):
            key = f'{name}.dataset.pipeline.{i}'
            if t.type in ('RandomResizedCrop', 'ResizeEdge'):
                opts.append(f'{key}.scale={SIZE}')
            elif t.type == 'CenterCrop':
                opts.append(f'{key}.crop_size={SIZE}')
            elif t.type == 'Resize':
                opts.append(f'{key}.scale=({SIZE},{SIZE})')
    return opts


def _run_options(cfg: Config, root: str, checkpoint: str) -> list:
    opts = [f'model.backbone.init_cfg.checkpoint={checkpoint}',
            'train_cfg.max_epochs=1', 'train_dataloader.dataset.indices=4',
            'default_hooks.logger.interval=1']
    for split in ('train', 'val', 'test'):
        loader = f'{split}_dataloader'
        opts += [f'{loader}.dataset.data_root={root}',
                 f'{loader}.batch_size=2', f'{loader}.num_workers=0',
                 f'{loader}.persistent_workers=False']
        if 'check_md5' in cfg[loader].dataset:  # generated CIFAR files
            opts.append(f'{loader}.dataset.check_md5=False')
    return opts + _size_options(cfg)


def _tiny_options(feat: int, linear: bool = True) -> list:
    # arch is a string in the configs: replace it by the dict
    opts = ['model.backbone.arch._delete_=True'] + [
        f'model.backbone.arch.{k}={v}' for k, v in TINY.items()]
    if linear:
        opts += ['model.backbone.out_indices=(0,1)',
                 'model.backbone.frozen_stages=2',
                 f'model.neck.input_features={feat}']
    else:
        opts.append('optim_wrapper.paramwise_cfg.num_layers=2')
    return opts + [f'model.head.in_channels={feat}']


def _check_metrics(work_dir: str) -> dict:
    paths = glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))
    assert len(paths) == 1, paths
    with open(paths[0]) as f:
        rows = [json.loads(line) for line in f]
    losses = [r for r in rows if 'loss' in r]
    assert [r['iter'] for r in losses] == [1, 2]
    assert all(math.isfinite(r['loss']) for r in losses)
    val = [r for r in rows if 'accuracy/top1' in r]
    assert len(val) == 1
    top1, top5 = val[0]['accuracy/top1'], val[0]['accuracy/top5']
    assert math.isfinite(top1) and math.isfinite(top5)
    assert 0 <= top1 <= top5 <= 100
    return val[0]


def _saved_state(work_dir: str) -> dict:
    return torch.load(osp.join(work_dir, 'epoch_1.pth'), map_location='cpu',
                      weights_only=False)['state_dict']


@pytest.mark.parametrize('suffix', sorted(DATASETS))
def test_linear_probe_trains_and_evaluates(suffix, exports, tmp_path):
    name = DATASETS[suffix]
    config = osp.join(CFG_DIR, f'linear_vit-small-p16_8xb128-20e_{suffix}.py')
    cfg = Config.fromfile(config)
    root = make_classification_fixture(name, str(tmp_path / name))
    real_vit = suffix == 'in1k'  # the real ViT-S/16 once
    ckpt, export = exports['small' if real_vit else 'tiny']
    opts = _run_options(cfg, root, ckpt)
    if not real_vit:
        opts += _tiny_options(feat=2 * TINY['embed_dims'])
    work_dir = str(tmp_path / 'work')
    proc = run_tool(train_cmd(config, work_dir, options=opts))
    assert 'do not match exactly' not in proc.stdout  # strict key match
    _check_metrics(work_dir)

    # frozen backbone: exactly the export (pos_embed resized to the grid)
    state = _saved_state(work_dir)
    backbone = {k[len('backbone.'):]: v for k, v in state.items()
                if k.startswith('backbone.')}
    assert backbone.keys() == export.keys()
    for key, value in export.items():
        if key == 'pos_embed':
            value = resize_pos_embed(value, (14, 14),
                                     (SIZE // 16, SIZE // 16),
                                     mode='bicubic', num_extra_tokens=1)
        torch.testing.assert_close(backbone[key], value, rtol=0, atol=0,
                                   msg=key)
    # the head is finite and reads the probe feature
    assert torch.isfinite(state['head.fc.weight']).all()
    assert state['head.fc.weight'].shape[1] == (
        1536 if real_vit else 2 * TINY['embed_dims'])


@pytest.mark.parametrize('suffix', sorted(DATASETS))
def test_finetune_trains_and_evaluates(suffix, exports, tmp_path):
    name = DATASETS[suffix]
    config = osp.join(CFG_DIR,
                      f'finetune_vit-small-p16_8xb128-50e_{suffix}.py')
    cfg = Config.fromfile(config)
    root = make_classification_fixture(name, str(tmp_path / name))
    ckpt, export = exports['tiny']
    opts = _run_options(cfg, root, ckpt) + _tiny_options(
        feat=TINY['embed_dims'], linear=False)
    work_dir = str(tmp_path / 'work')
    proc = run_tool(train_cmd(config, work_dir, options=opts))
    assert 'do not match exactly' not in proc.stdout
    _check_metrics(work_dir)
    state = _saved_state(work_dir)
    # started from the export (values ~N(0, 0.02)): two AdamW steps at the
    # first warm-up lrs (<= 2e-3 x 2/10 here: 5 warm-up epochs of 2 iters)
    # move each weight by < 1e-3; and the backbone trains
    diffs = [
        (state[f'backbone.{k}'] - v).abs().max().item()
        for k, v in export.items() if k != 'pos_embed'
    ]
    assert max(diffs) < 1e-3
    assert sum(d > 0 for d in diffs) > len(diffs) // 2
