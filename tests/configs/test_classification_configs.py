"""Classification transfer configs (configs/benchmarks/classification,
except the k-NN ones): they load; linear probes run 20 epochs on a frozen
ViTLinearFeatures backbone (1536-d for ViT-S, 2048-d for ViT-L), fine-tunes
50 epochs with layer-wise lr decay; class counts match the datasets; no URL
and no download anywhere; the dataset base configs read the generated
fixtures (mmequi.testing.classification) with the right labels; CIFAR
files are validated by structure."""
import glob
import os.path as osp
import pickle

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from mmpretrain.datasets import CIFAR10
from mmpretrain.registry import DATASETS, MODELS
from mmpretrain.structures import DataSample
from PIL import Image

from mmequi.testing.classification import FIXTURES, make_classification_fixture
from tests.conftest import REPO, assert_no_url

CFG_DIR = osp.join(REPO, 'configs', 'benchmarks', 'classification')
DATA_DIR = osp.join(CFG_DIR, '_base_', 'datasets')
CONFIGS = sorted(
    p for p in glob.glob(osp.join(CFG_DIR, '*.py'))
    if not osp.basename(p).startswith('knn_'))
LINEAR = [p for p in CONFIGS if osp.basename(p).startswith('linear_')]
FINETUNE = [p for p in CONFIGS if osp.basename(p).startswith('finetune_')]
# config suffix -> (dataset base, number of classes of the real dataset)
DATASETS_OF = {
    'in1k': ('imagenet', 1000), 'cifar10': ('cifar10', 10),
    'cifar100': ('cifar100', 100), 'aircraft': ('aircraft', 100),
    'pets': ('pets', 37), 'food101': ('food101', 101),
    'flowers102': ('flowers102', 102), 'inat18': ('inat18', 8142),
}


def _suffix(path: str) -> str:
    return osp.basename(path)[:-3].rsplit('_', 1)[1]


def _walk(obj):
    """Every dict inside a config (depth first) and every string."""
    if isinstance(obj, dict):
        yield obj
        for v in obj.values():
            yield from _walk(v)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            yield from _walk(v)
    else:
        yield obj


def test_every_dataset_has_both_configs():
    assert len(CONFIGS) == 2 * len(DATASETS_OF) + 2  # + ViT-L in1k x 2
    for suffix in DATASETS_OF:
        for kind in ('linear', 'finetune'):
            assert any(osp.basename(p).startswith(f'{kind}_vit-small') and
                       _suffix(p) == suffix for p in CONFIGS), (kind, suffix)
    names = {osp.basename(p) for p in CONFIGS}
    assert 'linear_vit-large-p16_8xb128-20e_in1k.py' in names
    assert 'finetune_vit-large-p16_8xb128-50e_in1k.py' in names


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_config_common(path):
    cfg = Config.fromfile(path)
    assert cfg.default_scope == 'mmpretrain'
    assert cfg.custom_imports == dict(imports=['mmequi'],
                                      allow_failed_imports=False)
    base, num_classes = DATASETS_OF[_suffix(path)]
    data_cfg = Config.fromfile(osp.join(DATA_DIR, f'{base}.py'))
    assert cfg.train_dataloader.dataset.type == data_cfg.dataset_type
    assert cfg.model.head.num_classes == num_classes
    assert cfg.data_preprocessor.num_classes == num_classes
    assert cfg.val_evaluator == dict(type='Accuracy', topk=(1, 5))
    assert cfg.test_evaluator == cfg.val_evaluator
    bb = cfg.model.backbone
    assert bb.patch_size == 16 and bb.img_size == 224
    assert bb.init_cfg.type == 'Pretrained'
    assert bb.init_cfg.checkpoint.startswith('<unset')
    assert 'prefix' not in bb.init_cfg  # exports carry no 'backbone.'
    # nothing is fetched: no URL anywhere, no download, mmequi's CIFAR
    items = list(_walk(cfg.to_dict()))
    assert_no_url(cfg, CFG_DIR)
    dicts = [d for d in items if isinstance(d, dict)]
    for d in dicts:
        if 'download' in d:
            assert d['download'] is False, (path, d)
        assert str(d.get('type', '')).split('.')[-1] not in (
            'CIFAR10', 'CIFAR100'), 'mmpretrain CIFAR verifies md5 only'
    for split in ('train', 'val', 'test'):
        ds = cfg[f'{split}_dataloader'].dataset
        if ds.type.startswith('OfflineCIFAR'):
            assert ds.download is False and ds.check_md5 is True


def test_runtime_equals_default_runtime():
    """The classification configs run with configs/_base_/default_runtime.py
    (scope and plugin included: every config, k-NN too, has them, which
    tests/configs/test_configs.py checks)."""
    ours = Config.fromfile(osp.join(CFG_DIR, '_base_', 'runtime.py'))
    ref = Config.fromfile(osp.join(REPO, 'configs', '_base_',
                                   'default_runtime.py'))
    assert ours.to_dict() == ref.to_dict()


@pytest.mark.parametrize('path', LINEAR, ids=osp.basename)
def test_linear_config(path):
    cfg = Config.fromfile(path)
    assert cfg.train_cfg.max_epochs == 20
    assert cfg.param_scheduler[-1].end == 20
    bb = cfg.model.backbone
    assert bb.type == 'ViTLinearFeatures'
    large = 'vit-large' in path
    depth, dims = (24, 1024) if large else (12, 384)
    assert bb.arch == ('large' if large else 'deit-small')
    assert bb.frozen_stages == depth  # everything frozen
    if large:  # last [CLS] + mean patch token
        assert tuple(bb.out_indices) == (23, ) and bb.avgpool_patch_tokens
        feat = 2048
    else:  # [CLS] of the last 4 blocks
        assert tuple(bb.out_indices) == (8, 9, 10, 11)
        assert not bb.avgpool_patch_tokens
        feat = 1536
    assert cfg.model.neck == dict(type='ClsBatchNormNeck',
                                  input_features=feat, affine=False,
                                  eps=1e-6)
    assert cfg.model.head.type == 'LinearClsHead'
    assert cfg.model.head.in_channels == feat
    assert cfg.optim_wrapper.optimizer.type == 'SGD'
    init_default_scope('mmpretrain')
    with torch.device('meta'):
        model = MODELS.build(cfg.model)
    assert model.backbone.feat_dim == feat == dims * (4 - 2 * large)
    assert model.backbone.num_layers == depth
    assert not any(p.requires_grad for p in model.backbone.parameters())


@pytest.mark.parametrize('path', FINETUNE, ids=osp.basename)
def test_finetune_config(path):
    cfg = Config.fromfile(path)
    large = 'vit-large' in path
    assert cfg.train_cfg.max_epochs == 50
    assert cfg.param_scheduler[-1].end == 50
    bb = cfg.model.backbone
    assert bb.type == 'VisionTransformer'
    assert bb.arch == ('large' if large else 'deit-small')
    assert bb.get('frozen_stages', -1) == -1
    assert bb.drop_path_rate == (0.2 if large else 0.1)
    ow = cfg.optim_wrapper
    assert ow.constructor == 'ViTLayerDecayOptimWrapperConstructor'
    assert ow.optimizer.type == 'AdamW'
    assert ow.paramwise_cfg == dict(
        layer_decay_rate=0.75 if large else 0.65,
        num_layers=24 if large else 12)
    assert [a.type for a in cfg.model.train_cfg.augments] == ['Mixup',
                                                              'CutMix']
    assert cfg.model.head.loss.type == 'LabelSmoothLoss'
    types = [t.type for t in cfg.train_dataloader.dataset.pipeline]
    assert 'RandAugment' in types and 'RandomErasing' in types
    cifar = 'cifar' in path
    assert ('LoadImageFromFile' in types) is not cifar
    erase = cfg.train_dataloader.dataset.pipeline[types.index(
        'RandomErasing')]
    mean = cfg.data_preprocessor.mean
    # fill colour in the pixel order of the images (BGR files, RGB CIFAR)
    assert list(erase.fill_color) == (list(mean) if cifar else
                                      list(mean)[::-1])


def _small_linear_model(path: str):
    cfg = Config.fromfile(path)
    cfg.model.backbone.img_size = 32
    cfg.model.data_preprocessor = cfg.data_preprocessor
    init_default_scope('mmpretrain')
    model = MODELS.build(cfg.model)
    return cfg, model


def _batch(num_classes: int):
    g = torch.Generator().manual_seed(0)
    inputs = [torch.randint(0, 256, (3, 32, 32), generator=g,
                            dtype=torch.uint8) for _ in range(4)]
    samples = [DataSample().set_gt_label(i % num_classes) for i in range(4)]
    return dict(inputs=inputs, data_samples=samples)


def test_linear_step_changes_only_the_head():
    """One optimiser step of the ImageNet ViT-S linear config: the head and
    the BN statistics change, no backbone parameter gets a gradient or
    moves."""
    cfg, model = _small_linear_model(
        osp.join(CFG_DIR, 'linear_vit-small-p16_8xb128-20e_in1k.py'))
    model.train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    optim = build_optim_wrapper(model, cfg.optim_wrapper)
    optim.optimizer.param_groups[0]['lr'] = 1.0  # a visible step
    losses = model.train_step(_batch(1000), optim)
    assert torch.isfinite(losses['loss'])
    after = model.state_dict()
    for name, p in model.backbone.named_parameters():
        assert p.grad is None, name
        assert torch.equal(p, before[f'backbone.{name}']), name
    assert not torch.equal(after['head.fc.weight'], before['head.fc.weight'])
    assert not torch.equal(after['neck.bn.running_mean'],
                           before['neck.bn.running_mean'])


def test_export_loads_strictly():
    """A backbone export (mmpretrain VisionTransformer keys, no prefix) has
    exactly the keys of the linear and fine-tuning backbones."""
    from mmpretrain.models import VisionTransformer
    export = VisionTransformer(arch='deit-small', img_size=224,
                               patch_size=16).state_dict()
    init_default_scope('mmpretrain')
    for name in ('linear_vit-small-p16_8xb128-20e_cifar10.py',
                 'finetune_vit-small-p16_8xb128-50e_cifar10.py'):
        cfg = Config.fromfile(osp.join(CFG_DIR, name))
        backbone = MODELS.build(cfg.model.backbone)
        backbone.load_state_dict(export, strict=True)
    with torch.device('meta'):
        ref = VisionTransformer(arch='large', img_size=224, patch_size=16)
        for name in ('linear_vit-large-p16_8xb128-20e_in1k.py',
                     'finetune_vit-large-p16_8xb128-50e_in1k.py'):
            cfg = Config.fromfile(osp.join(CFG_DIR, name))
            backbone = MODELS.build(cfg.model.backbone)
            assert backbone.state_dict().keys() == ref.state_dict().keys()


def test_unset_checkpoint_refuses_to_initialise():
    cfg = Config.fromfile(
        osp.join(CFG_DIR, 'linear_vit-small-p16_8xb128-20e_pets.py'))
    init_default_scope('mmpretrain')
    backbone = MODELS.build(cfg.model.backbone)
    with pytest.raises(FileNotFoundError, match='unset'):
        backbone.init_weights()


def test_finetune_layer_decay_groups():
    cfg = Config.fromfile(
        osp.join(CFG_DIR, 'finetune_vit-small-p16_8xb128-50e_in1k.py'))
    init_default_scope('mmpretrain')
    model = MODELS.build(cfg.model)
    optim = build_optim_wrapper(model, cfg.optim_wrapper)
    lr = cfg.optim_wrapper.optimizer.lr
    lr_of = {}
    for group in optim.optimizer.param_groups:
        for p in group['params']:
            lr_of[id(p)] = (group['lr'], group['weight_decay'])
    params = dict(model.named_parameters())
    assert lr_of[id(params['head.fc.weight'])] == (pytest.approx(lr), 0.05)
    assert lr_of[id(params['backbone.layers.11.ffn.layers.1.weight'])] == (
        pytest.approx(lr * 0.65), 0.05)
    assert lr_of[id(params['backbone.layers.0.attn.qkv.weight'])][0] == \
        pytest.approx(lr * 0.65**12)
    assert lr_of[id(params['backbone.cls_token'])] == (
        pytest.approx(lr * 0.65**13), 0.0)
    assert lr_of[id(params['backbone.layers.3.ln1.bias'])][1] == 0.0


# ---------------------------------------------------------------- datasets
def _class_colour(label: int) -> np.ndarray:
    """The fixture's class colour (mmequi.testing.classification)."""
    return np.random.default_rng([label, 7]).integers(0, 256, 3)


def _rgb(info: dict) -> np.ndarray:
    if 'img' in info:  # CIFAR: in-memory RGB array
        return info['img']
    return np.asarray(Image.open(info['img_path']).convert('RGB'))


@pytest.mark.parametrize('name', sorted(FIXTURES))
def test_dataset_base_reads_its_fixture(name, tmp_path):
    root = make_classification_fixture(name, str(tmp_path / name))
    cfg = Config.fromfile(osp.join(DATA_DIR, f'{name}.py'))
    # the scope comes with the runtime (../runtime.py), not the dataset base
    init_default_scope('mmpretrain')
    sizes = {}
    for split in ('train', 'val', 'test'):
        ds_cfg = cfg[f'{split}_dataloader'].dataset.copy()
        ds_cfg.update(data_root=root, pipeline=[])
        if 'check_md5' in ds_cfg:
            ds_cfg.check_md5 = False
        ds = DATASETS.build(ds_cfg)
        infos = [ds.get_data_info(i) for i in range(len(ds))]
        labels = [int(i['gt_label']) for i in infos]
        sizes[split] = len(ds)
        assert sorted(set(labels)) == [0, 1, 2]
        # every image shows its label's colour: reader and writer agree
        for info in infos:
            mean = _rgb(info).reshape(-1, 3).mean(0)
            dists = [np.abs(mean - _class_colour(c)).sum() for c in range(3)]
            assert int(np.argmin(dists)) == int(info['gt_label'])
        if 'classes' in ds.metainfo and name != 'inat18':
            assert len(ds.metainfo['classes']) == cfg.num_classes
    assert sizes['train'] > sizes['val'] == sizes['test'] > 0
    # the preprocessing: train crop and test resize to 224
    types = [t.type for t in cfg.test_pipeline]
    assert types[-1] == 'PackInputs'
    if name.startswith('cifar'):
        assert cfg.data_preprocessor.to_rgb is False
        assert cfg.test_pipeline[0].scale == (224, 224)
    else:
        assert cfg.data_preprocessor.to_rgb is True
        assert types == ['LoadImageFromFile', 'ResizeEdge', 'CenterCrop',
                         'PackInputs']
        assert cfg.test_pipeline[1].scale == 256
        assert cfg.test_pipeline[2].crop_size == 224
    crop = [t for t in cfg.train_pipeline if t.type == 'RandomResizedCrop']
    assert len(crop) == 1 and crop[0].scale == 224


@pytest.fixture(scope='module')
def cifar10(tmp_path_factory) -> str:
    return make_classification_fixture(
        'cifar10', str(tmp_path_factory.mktemp('cifar10')))


def test_offline_cifar_checks(cifar10, tmp_path):
    init_default_scope('mmpretrain')
    cfg = dict(type='OfflineCIFAR10', data_root=cifar10, split='test')
    # the fixture is not the official file: md5 check names the file
    with pytest.raises(ValueError, match=r'md5 of .*batches\.meta'):
        DATASETS.build(dict(cfg, check_md5=True))
    with pytest.raises(ValueError, match='download must be False'):
        DATASETS.build(dict(cfg, download=True, check_md5=False))
    # mmpretrain's own class rejects the same files (md5 only)
    with pytest.raises(RuntimeError, match='Cannot find CIFAR10'):
        CIFAR10(data_root=cifar10, split='test', download=False)
    ds = DATASETS.build(dict(cfg, check_md5=False))
    with open(osp.join(cifar10, 'cifar-10-batches-py', 'test_batch'),
              'rb') as f:
        raw = pickle.load(f, encoding='latin1')
    img = raw['data'][1].reshape(3, 32, 32).transpose(1, 2, 0)
    np.testing.assert_array_equal(ds.get_data_info(1)['img'], img)
    assert ds.get_data_info(1)['gt_label'] == raw['labels'][1]

    # structure errors name the file and the problem
    import shutil
    bad = str(tmp_path / 'bad')
    shutil.copytree(cifar10, bad)
    path = osp.join(bad, 'cifar-10-batches-py', 'test_batch')
    with open(path, 'wb') as f:
        pickle.dump(dict(raw, data=raw['data'][:, :100]), f)
    with pytest.raises(ValueError, match=r'test_batch key .data. must be'):
        DATASETS.build(dict(cfg, data_root=bad, check_md5=False))
    with open(path, 'wb') as f:
        pickle.dump(dict(raw, labels=[10] * len(raw['labels'])), f)
    with pytest.raises(ValueError, match=r"'labels' values must be in"):
        DATASETS.build(dict(cfg, data_root=bad, check_md5=False))
    import os
    os.remove(path)
    with pytest.raises(FileNotFoundError, match='test_batch'):
        DATASETS.build(dict(cfg, data_root=bad, check_md5=False))


def test_inat_checks(tmp_path):
    import json
    root = make_classification_fixture('inat18', str(tmp_path / 'inat'))
    init_default_scope('mmpretrain')
    path = osp.join(root, 'val2018.json')
    with open(path) as f:
        ann = json.load(f)
    ann['annotations'] = ann['annotations'][1:]
    with open(path, 'w') as f:
        json.dump(ann, f)
    with pytest.raises(ValueError, match='has no annotation'):
        DATASETS.build(dict(type='INaturalist2018', data_root=root,
                            split='val'))
    with pytest.raises(ValueError, match='split must be one of'):
        DATASETS.build(dict(type='INaturalist2018', data_root=root,
                            split='test'))
