"""Keypoint transfer (configs/benchmarks/mmpose) from a ViT-S/16 backbone
export: checkpoint loading, and end to end through tools/train.py and
tools/test.py on tiny generated COCO / MPII fixtures.

The checkpoint is made as a user makes it: an mmequi pretraining
checkpoint (``teacher.backbone.*``) exported with
``tools/model_converters/extract_backbone.py OUT --drop-cls-token``
(pos_embed (1, 196, 384) without the cls entry, no cls_token); mmpretrain's
load hook resizes the 14x14 grid to 16x12 (COCO 256x192) / 16x16 (MPII
256x256). An export WITH the cls entry fails an assertion in that hook.
"""
import glob
import importlib.util
import json
import math
import os.path as osp
import pickle
import sys
from typing import Dict, List

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.registry import init_default_scope
from scipy.io import loadmat

from tests.conftest import REPO, run_tool, train_cmd

CFG_DIR = osp.join(REPO, 'configs', 'benchmarks', 'mmpose')
COCO_S = osp.join(CFG_DIR, 'td-hm_vit-small-p16_8xb64-12e_coco-256x192.py')
MPII_S = osp.join(CFG_DIR, 'td-hm_vit-small-p16_8xb64-12e_mpii-256x256.py')
UPSTREAM_REL = ('body_2d_keypoint/topdown_heatmap/coco/'
                'td-hm_ViTPose-small_8xb64-210e_coco-256x192.py')
LOAD_MISMATCH = ('missing keys in source state_dict',
                 'unexpected key in source state_dict')


def _exporter():
    """tools/model_converters/extract_backbone.py as a module (its CLI)."""
    path = osp.join(REPO, 'tools', 'model_converters', 'extract_backbone.py')
    spec = importlib.util.spec_from_file_location('_extract_backbone', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def vit_s_exports(tmp_path_factory) -> Dict[str, str]:
    """{'nocls': export with --drop-cls-token, 'cls': plain export} of a
    (randomly initialised) ViT-S/16 224 px pretraining checkpoint."""
    from mmpretrain.models import VisionTransformer
    out = tmp_path_factory.mktemp('vit_s_exports')
    torch.manual_seed(0)
    vit = VisionTransformer(arch='deit-small', img_size=224, patch_size=16)
    vit.init_weights()  # a non-zero pos_embed, so the resize is visible
    src = str(out / 'pretrain_epoch_1.pth')
    torch.save({'state_dict': {f'teacher.backbone.{k}': v
                               for k, v in vit.state_dict().items()},
                'meta': {'epoch': 1}}, src)
    tool = _exporter()
    paths = {'nocls': str(out / 'vit-s_nocls.pth'),
             'cls': str(out / 'vit-s_cls.pth')}
    tool.main([src, paths['nocls'], '--drop-cls-token'])
    tool.main([src, paths['cls']])
    return paths


def _backbone(config: str, checkpoint: str = None):
    cfg = Config.fromfile(config)
    bb = cfg.model.backbone
    if checkpoint is not None:
        bb.init_cfg.checkpoint = checkpoint
    init_default_scope('mmpose')
    from mmpose.registry import MODELS
    return MODELS.build(bb)


def _resized(pos: torch.Tensor, grid) -> torch.Tensor:
    """(1, 196, C) -> (1, h*w, C), bicubic (our own computation)."""
    c = pos.shape[-1]
    img = pos.reshape(1, 14, 14, c).permute(0, 3, 1, 2)
    img = F.interpolate(img, size=grid, mode='bicubic', align_corners=False)
    return img.flatten(2).transpose(1, 2)


# --------------------------------------------------------------------------
# checkpoint loading (fast)
# --------------------------------------------------------------------------
@pytest.mark.parametrize('config,grid', [(COCO_S, (16, 12)),
                                         (MPII_S, (16, 16))],
                         ids=['coco-256x192', 'mpii-256x256'])
def test_export_loads_strictly(vit_s_exports, config, grid):
    """Zero missing/unexpected keys; pos_embed = bicubic 14x14 -> grid;
    the config's init path (mmengine Pretrained, strict=False) loads every
    tensor."""
    ckpt = torch.load(vit_s_exports['nocls'], map_location='cpu',
                      weights_only=True)
    sd = ckpt['state_dict']
    assert 'cls_token' not in sd
    assert tuple(sd['pos_embed'].shape) == (1, 196, 384)
    assert ckpt['meta']['with_cls_token'] is False

    backbone = _backbone(config)
    result = backbone.load_state_dict(dict(sd), strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    expected_pos = _resized(sd['pos_embed'], grid)
    torch.testing.assert_close(backbone.pos_embed.data, expected_pos)

    backbone = _backbone(config, vit_s_exports['nocls'])
    backbone.init_weights()
    state = backbone.state_dict()
    assert set(state) == set(sd)
    for key, value in sd.items():
        want = expected_pos if key == 'pos_embed' else value
        torch.testing.assert_close(state[key], want, msg=key)


@pytest.mark.parametrize('config', [COCO_S, MPII_S],
                         ids=['coco-256x192', 'mpii-256x256'])
def test_export_with_cls_entry_fails_loudly(vit_s_exports, config):
    """pos_embed (1, 197, C) cannot be resized for a with_cls_token=False
    backbone: mmpretrain's hook raises (no silent half-load)."""
    backbone = _backbone(config, vit_s_exports['cls'])
    with pytest.raises(AssertionError, match=r'197.*14\*14\+0'):
        backbone.init_weights()


def test_upstream_12_heads_load_a_6_head_checkpoint_silently(vit_s_exports):
    """Upstream ViTPose-small has 12 heads: the iBOT ViT-S (6 heads)
    checkpoint loads into it strictly (qkv is 384 -> 3x384 either way) but
    computes another function; model.backbone.arch.num_heads=6 is needed."""
    import mmpose
    upstream = osp.join(osp.dirname(mmpose.__file__), '.mim', 'configs',
                        UPSTREAM_REL)
    cfg = Config.fromfile(upstream)
    assert cfg.model.backbone.arch['num_heads'] == 12
    sd = torch.load(vit_s_exports['nocls'], map_location='cpu',
                    weights_only=True)['state_dict']
    init_default_scope('mmpose')
    from mmpose.registry import MODELS
    outs = {}
    for heads in (12, 6):
        bb_cfg = cfg.model.backbone.copy()
        bb_cfg.arch = dict(bb_cfg.arch, num_heads=heads)
        bb_cfg.init_cfg = None
        backbone = MODELS.build(bb_cfg)
        backbone.eval()  # (mmpretrain's train() does not return self)
        result = backbone.load_state_dict(dict(sd), strict=True)
        assert not result.missing_keys and not result.unexpected_keys
        with torch.no_grad():
            outs[heads] = backbone(torch.randn(
                1, 3, 256, 192, generator=torch.Generator().manual_seed(0)))
    ours = _backbone(COCO_S)
    ours.eval()
    ours.load_state_dict(dict(sd), strict=True)
    with torch.no_grad():
        ref = ours(torch.randn(
            1, 3, 256, 192, generator=torch.Generator().manual_seed(0)))
    torch.testing.assert_close(outs[6][0], ref[0])  # num_heads=6 == ours
    assert (outs[12][0] - ref[0]).abs().max() > 1e-3


# --------------------------------------------------------------------------
# end to end (slow)
# --------------------------------------------------------------------------
@pytest.fixture(scope='module')
def tiny_coco(tmp_path_factory) -> str:
    from mmequi.testing.coco import make_coco
    root = str(tmp_path_factory.mktemp('tiny_coco'))
    return make_coco(root, num_train=4, num_val=2, size=(96, 128),
                     num_classes=3, keypoints=True, seed=0)


@pytest.fixture(scope='module')
def tiny_mpii(tmp_path_factory) -> str:
    from mmequi.testing.mpii import make_mpii
    root = str(tmp_path_factory.mktemp('tiny_mpii'))
    return make_mpii(root, num_train=4, num_val=2, size=(128, 128), seed=0)


def _loader_options(root: str) -> List[str]:
    opts = []
    for split in ('train', 'val', 'test'):
        opts += [f'{split}_dataloader.dataset.data_root={root}',
                 f'{split}_dataloader.batch_size=2',
                 f'{split}_dataloader.num_workers=0',
                 f'{split}_dataloader.persistent_workers=False']
    # 2 training iterations: 4 persons at batch 2
    return opts + ['train_dataloader.dataset.indices=4']


def _coco_options(root: str) -> List[str]:
    ann = osp.join(root, 'annotations', 'person_keypoints_val2017.json')
    return _loader_options(root) + [f'val_evaluator.ann_file={ann}',
                                    f'test_evaluator.ann_file={ann}']


def _mpii_options(root: str) -> List[str]:
    mat = osp.join(root, 'annotations', 'mpii_gt_val.mat')
    return _loader_options(root) + [
        f'val_dataloader.dataset.headbox_file={mat}',
        f'test_dataloader.dataset.headbox_file={mat}']


def _train_options(ckpt: str) -> List[str]:
    return [f'model.backbone.init_cfg.checkpoint={ckpt}',
            'train_cfg.max_epochs=1', 'train_cfg.val_interval=1',
            'default_hooks.logger.interval=1']


def _records(work_dir: str, pattern: str) -> List[dict]:
    rows = []
    for path in sorted(glob.glob(osp.join(work_dir, pattern))):
        with open(path) as f:
            rows += [json.loads(line) for line in f if line.strip()]
    return rows


def _check_train(work_dir: str, out: str, metric: str, grid: str) -> None:
    assert (f'Resize the pos_embed shape from torch.Size([1, 196, 384]) to '
            f'torch.Size([{grid}, 384])') in out
    for text in LOAD_MISMATCH:
        assert text not in out, out[-3000:]
    rows = _records(work_dir, '*/vis_data/scalars.json')
    losses = [r['loss'] for r in rows if 'loss' in r]
    assert len(losses) == 2 and all(math.isfinite(v) for v in losses)
    values = [r[metric] for r in rows if metric in r]
    assert len(values) == 1 and math.isfinite(values[0]), rows
    assert osp.isfile(osp.join(work_dir, 'epoch_1.pth'))


def _test_metrics(work_dir: str) -> dict:
    rows = _records(work_dir, '*/[0-9]*.json')
    assert len(rows) == 1, rows
    return rows[0]


@pytest.mark.slow
def test_coco_train_then_test(tiny_coco, vit_s_exports, tmp_path):
    wd = str(tmp_path / 'train')
    out = run_tool(train_cmd(
        COCO_S, wd, options=_coco_options(tiny_coco) +
        _train_options(vit_s_exports['nocls']))).stdout
    _check_train(wd, out, 'coco/AP', '1, 192')
    ap = [r['coco/AP'] for r in _records(wd, '*/vis_data/scalars.json')
          if 'coco/AP' in r][0]
    assert 0.0 <= ap <= 1.0  # -1 would mean no valid ground truth

    twd = str(tmp_path / 'test')
    preds = str(tmp_path / 'preds.pkl')
    run_tool([sys.executable, 'tools/test.py', COCO_S,
              osp.join(wd, 'epoch_1.pth'), '--work-dir', twd, '--out', preds,
              '--cfg-options', *_coco_options(tiny_coco)])
    metrics = _test_metrics(twd)
    for key in ('coco/AP', 'coco/AP .5', 'coco/AR'):
        assert math.isfinite(metrics[key]) and 0 <= metrics[key] <= 1, key
    # ground-truth boxes: one prediction per annotated val person
    with open(osp.join(tiny_coco, 'annotations',
                       'person_keypoints_val2017.json')) as f:
        num_persons = len(json.load(f)['annotations'])
    with open(preds, 'rb') as f:
        samples = pickle.load(f)
    assert len(samples) == num_persons
    for s in samples:
        assert s['pred_instances']['keypoints'].shape == (1, 17, 2)


def _pckh(samples: list, root: str, thr: float) -> float:
    """PCKh from the dumped predictions and the fixture files directly:
    joints within thr x 0.6 x head-box diagonal, over visible joints,
    pelvis and thorax excluded (the MPII protocol), in percent."""
    with open(osp.join(root, 'annotations', 'mpii_val.json')) as f:
        persons = json.load(f)
    boxes = loadmat(osp.join(root, 'annotations',
                             'mpii_gt_val.mat'))['headboxes_src']
    hit = total = 0
    for s in samples:
        i = s['id']  # the index of the person in mpii_val.json
        gt = np.array(persons[i]['joints'])            # 1-based
        vis = np.array(persons[i]['joints_vis']) > 0
        pred = s['pred_instances']['keypoints'][0] + 1.0
        head = 0.6 * np.linalg.norm(boxes[1, :, i] - boxes[0, :, i])
        ok = np.linalg.norm(pred - gt, axis=1) <= thr * head
        keep = vis.copy()
        keep[[6, 7]] = False
        hit += int(ok[keep].sum())
        total += int(keep.sum())
    return 100.0 * hit / total


@pytest.mark.slow
def test_mpii_train_then_test(tiny_mpii, vit_s_exports, tmp_path):
    wd = str(tmp_path / 'train')
    out = run_tool(train_cmd(
        MPII_S, wd, options=_mpii_options(tiny_mpii) +
        _train_options(vit_s_exports['nocls']))).stdout
    _check_train(wd, out, 'PCK', '1, 256')

    # test with a loose threshold (3 head sizes) so that the untrained
    # model's PCKh is not trivially 0; PCK@0.1 stays at 0.1
    twd = str(tmp_path / 'test')
    preds = str(tmp_path / 'preds.pkl')
    run_tool([sys.executable, 'tools/test.py', MPII_S,
              osp.join(wd, 'epoch_1.pth'), '--work-dir', twd, '--out', preds,
              '--cfg-options', *_mpii_options(tiny_mpii),
              'test_evaluator.thr=3.0'])
    metrics = _test_metrics(twd)
    with open(preds, 'rb') as f:
        samples = pickle.load(f)
    assert len(samples) == 2
    for key, thr in (('PCK', 3.0), ('PCK@0.1', 0.1)):
        assert math.isfinite(metrics[key]), key
        assert metrics[key] == pytest.approx(_pckh(samples, tiny_mpii, thr),
                                             abs=1e-4), key


@pytest.mark.slow
def test_upstream_vitpose_small_config_with_cfg_options(tiny_coco,
                                                        vit_s_exports,
                                                        tmp_path):
    """mmpose's unmodified upstream ViTPose-small config trains from our
    export with --cfg-options only (6 heads, local checkpoint, data root,
    ground-truth boxes, tiny loaders)."""
    import mmpose
    upstream = osp.join(osp.dirname(mmpose.__file__), '.mim', 'configs',
                        UPSTREAM_REL)
    wd = str(tmp_path / 'upstream')
    options = _coco_options(tiny_coco) + _train_options(
        vit_s_exports['nocls']) + [
            'model.backbone.arch.num_heads=6',
            'val_dataloader.dataset.bbox_file=None',
            'test_dataloader.dataset.bbox_file=None']
    out = run_tool(train_cmd(upstream, wd, options=options)).stdout
    _check_train(wd, out, 'coco/AP', '1, 192')
    dumped = Config.fromfile(osp.join(wd, osp.basename(upstream)))
    assert dumped.model.backbone.arch['num_heads'] == 6
    assert dumped.val_dataloader.dataset.bbox_file is None
