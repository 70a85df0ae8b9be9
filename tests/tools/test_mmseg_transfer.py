"""ADE20K UPerNet transfer end to end on a tiny generated ADE20K (real
layout, mmequi.testing.make_ade20k), 64 px crops, CPU:

* our ViT-S config: a backbone export in mmpretrain keys loads with zero
  missing/unexpected keys; ``tools/train.py`` runs 2 iterations + mIoU
  validation and starts from the checkpoint's weights; ``tools/test.py``
  evaluates the saved checkpoint and its mIoU equals a recomputation from
  the dumped predictions and the label PNGs;
* mmseg's unmodified upstream ``vit_deit-s16_mln_upernet`` config, pointed
  at an mmseg-format export with ``--cfg-options`` only, trains 2 iterations
  from exactly those weights (mmseg's ViT loads with strict=False, so the
  key mapping is checked here: strict load + identical features).
"""
import glob
import json
import math
import os.path as osp
import pickle
import sys

import cv2
import mmseg
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmpretrain.models import VisionTransformer
from mmpretrain.models.utils import resize_pos_embed
from mmseg.registry import MODELS

from mmequi.models.utils.vit_convert import convert_vit_keys
from mmequi.testing import make_ade20k
from tests.conftest import REPO, run_tool, train_cmd

CFG_DIR = osp.join(REPO, 'configs', 'benchmarks', 'mmseg')
S = osp.join(CFG_DIR, 'upernet_vit-small-p16_8xb2-12e_ade20k-512x512.py')
L = osp.join(CFG_DIR, 'upernet_vit-large-p16_8xb2-12e_ade20k-512x512.py')
UPSTREAM = osp.join(osp.dirname(mmseg.__file__), '.mim', 'configs', 'vit',
                    'vit_deit-s16_mln_upernet_8xb2-160k_ade20k-512x512.py')
CROP = 64  # tiny crop / slide window / backbone img_size
GRID = CROP // 16


def _vit_s_state_dict(seed: int = 0) -> dict:
    """mmpretrain ViT-S/16 (224 px) weights, every tensor random so that a
    backbone that did not load them cannot match them by chance."""
    torch.manual_seed(seed)
    sd = VisionTransformer(arch='deit-small', img_size=224,
                           patch_size=16).state_dict()
    out = {}
    for k, v in sd.items():
        noise = torch.randn_like(v) * 0.02
        out[k] = noise + 1 if k.endswith('ln1.weight') or \
            k.endswith('ln2.weight') else noise
    return out


@pytest.fixture(scope='module')
def ade20k(tmp_path_factory) -> str:
    return make_ade20k(str(tmp_path_factory.mktemp('ade20k')), num_train=4,
                       num_val=2, size=(64, 96), seed=0)


@pytest.fixture(scope='module')
def vit_s_export(tmp_path_factory):
    """(path, state dict): the backbone export format of the contract."""
    sd = _vit_s_state_dict()
    path = str(tmp_path_factory.mktemp('ckpt') / 'vit-s_backbone.pth')
    torch.save({'state_dict': sd, 'meta': {}}, path)
    return path, sd


def _data_options(root: str) -> list:
    return [f'{s}_dataloader.dataset.data_root={root}'
            for s in ('train', 'val', 'test')] + \
        [f'{s}_dataloader.num_workers=0' for s in ('train', 'val', 'test')]


def _tiny_options(root: str) -> list:
    """64 px everywhere: train resize/crop, test resize, padding size,
    backbone pos-embed grid (pipeline indices as in the ADE20K base)."""
    return _data_options(root) + [
        f'model.data_preprocessor.size=({CROP},{CROP})',
        f'train_dataloader.dataset.pipeline.2.scale=({4 * CROP},{CROP})',
        f'train_dataloader.dataset.pipeline.3.crop_size=({CROP},{CROP})',
        f'val_dataloader.dataset.pipeline.1.scale=({4 * CROP},{CROP})',
        f'test_dataloader.dataset.pipeline.1.scale=({4 * CROP},{CROP})',
        'train_dataloader.batch_size=2',
        'train_cfg.max_iters=2',
        'default_hooks.checkpoint.interval=2',
        'default_hooks.logger.interval=1',
    ]


def _ours_tiny_model_options() -> list:
    return [f'model.backbone.img_size={CROP}',
            f'model.test_cfg.crop_size=({CROP},{CROP})',
            'model.test_cfg.stride=(43,43)']  # 341/512 of the window


def _metric_lines(pattern: str) -> list:
    """The json log lines with mIoU of the one file matching ``pattern``
    (training: WORK_DIR/<time>/vis_data/scalars.json; tools/test.py:
    WORK_DIR/<time>/<time>.json)."""
    paths = glob.glob(pattern)
    assert len(paths) == 1, (pattern, paths)
    with open(paths[0]) as f:
        return [json.loads(line) for line in f if '"mIoU"' in line]


def _miou_from_predictions(preds: list) -> float:
    """mIoU (percent) of the dumped predictions against the label PNGs:
    labels 1..150 -> classes 0..149, 0 -> ignored; per class
    IoU = |P∩G| / |P∪G| over the valid pixels of all images, classes with an
    empty union left out of the mean."""
    inter = np.zeros(150)
    union = np.zeros(150)
    for sample in preds:
        label = cv2.imread(sample['seg_map_path'], cv2.IMREAD_UNCHANGED)
        pred = sample['pred_sem_seg']['data'][0].numpy()
        assert pred.shape == label.shape == (64, 96)
        valid = label > 0
        gt, pr = label[valid].astype(np.int64) - 1, pred[valid]
        for c in range(150):
            g, p = gt == c, pr == c
            inter[c] += np.sum(g & p)
            union[c] += np.sum(g | p)
    present = union > 0
    return float(np.mean(inter[present] / union[present]) * 100)


def test_make_ade20k_is_the_real_layout(ade20k, tmp_path):
    """mmseg's ADE20KDataset reads it; labels are uint8 in 0..150; same
    seed -> same files; bad arguments are errors."""
    from mmseg.datasets import ADE20KDataset
    assert osp.basename(ade20k) == 'ADEChallengeData2016'
    for split, n in (('training', 4), ('validation', 2)):
        ds = ADE20KDataset(
            data_root=ade20k, data_prefix=dict(
                img_path=f'images/{split}',
                seg_map_path=f'annotations/{split}'), pipeline=[])
        assert len(ds) == n
        for info in ds:
            assert info['img_path'].endswith('.jpg')
            label = cv2.imread(info['seg_map_path'], cv2.IMREAD_UNCHANGED)
            assert label.dtype == np.uint8 and label.shape == (64, 96)
            assert label.max() <= 150
            img = cv2.imread(info['img_path'])
            assert img.shape == (64, 96, 3)
    again = make_ade20k(str(tmp_path), num_train=4, num_val=2,
                        size=(64, 96), seed=0)
    name = 'annotations/training/ADE_train_00000003.png'
    assert np.array_equal(cv2.imread(osp.join(ade20k, name), -1),
                          cv2.imread(osp.join(again, name), -1))
    with pytest.raises(ValueError, match='num_train'):
        make_ade20k(str(tmp_path), num_train=0)


def test_export_loads_strictly_into_the_config_backbones(vit_s_export):
    """Zero missing / unexpected keys; pos_embed resized 14x14 -> 32x32
    by mmpretrain's load hook (cls entry kept)."""
    _, sd = vit_s_export
    init_default_scope('mmseg')
    cfg = Config.fromfile(S)
    backbone_cfg = {k: v for k, v in cfg.model.backbone.items()
                    if k != 'init_cfg'}
    vit = MODELS.build(backbone_cfg)
    result = vit.load_state_dict(dict(sd), strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    assert vit.pos_embed.shape == (1, 1 + 32 * 32, 384)
    assert torch.equal(vit.layers[3].attn.qkv.weight,
                       sd['layers.3.attn.qkv.weight'])
    # ViT-L: the config's backbone has exactly the keys of an mmpretrain
    # ViT-L export (shapes on the meta device)
    cfg_l = Config.fromfile(L)
    with torch.device('meta'):
        vit_l = MODELS.build({k: v for k, v in cfg_l.model.backbone.items()
                              if k != 'init_cfg'})
        export_l = VisionTransformer(arch='large', img_size=224).state_dict()
    assert set(vit_l.state_dict()) == set(export_l)


def test_mmseg_export_matches_mmseg_vit(vit_s_export):
    """convert_vit_keys(dst='mmseg') gives mmseg's own VisionTransformer
    (the upstream deit-s16 config's backbone) every key and the same
    features as mmpretrain's ViT; without patch_bias/final_norm the
    upstream backbone silently drops three keys."""
    _, sd = vit_s_export
    mmseg_sd = convert_vit_keys(sd, src='mmpretrain', dst='mmseg')
    init_default_scope('mmseg')
    up = Config.fromfile(UPSTREAM).model.backbone
    seg_vit = MODELS.build(dict(up, img_size=(224, 224), patch_bias=True,
                                final_norm=True, drop_path_rate=0.0))
    result = seg_vit.load_state_dict(mmseg_sd, strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    assert set(seg_vit.state_dict()) == set(mmseg_sd)

    ours = VisionTransformer(arch='deit-small', img_size=224, patch_size=16,
                             out_indices=(2, 5, 8, 11), out_type='featmap',
                             final_norm=True)
    ours.load_state_dict(sd, strict=True)
    ours.eval()
    seg_vit.eval()
    x = torch.randn(2, 3, 224, 224, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        for a, b in zip(ours(x), seg_vit(x)):
            assert a.shape == b.shape == (2, 384, 14, 14)
            torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-4)

    plain = MODELS.build(dict(up, img_size=(224, 224)))
    result = plain.load_state_dict(mmseg_sd, strict=False)
    assert not result.missing_keys
    assert set(result.unexpected_keys) == {
        'patch_embed.projection.bias', 'ln1.weight', 'ln1.bias'}


@pytest.mark.slow
def test_ours_train_two_iters_then_test(ade20k, vit_s_export, tmp_path):
    ckpt, sd = vit_s_export
    wd = str(tmp_path / 'train')
    options = _tiny_options(ade20k) + _ours_tiny_model_options() + [
        f'model.backbone.init_cfg.checkpoint={ckpt}',
        'train_cfg.val_interval=2']
    out = run_tool(train_cmd(S, wd, options=options)).stdout
    assert 'ADE20KDataset' in out
    scalars = osp.join(wd, '*', 'vis_data', 'scalars.json')
    with open(glob.glob(scalars)[0]) as f:
        losses = [r for r in map(json.loads, f) if 'loss' in r]
    assert [r['iter'] for r in losses] == [1, 2]
    assert all(math.isfinite(r['loss']) for r in losses)
    val = _metric_lines(scalars)
    assert len(val) == 1 and math.isfinite(val[0]['mIoU'])
    assert 0 <= val[0]['mIoU'] <= 100

    # training started from the export (lr ~1e-8 in warm-up: weights moved
    # by far less than 1e-5)
    saved = osp.join(wd, 'iter_2.pth')
    state = torch.load(saved, map_location='cpu',
                       weights_only=False)['state_dict']
    for key, value in sd.items():
        got = state['backbone.' + key]
        if key == 'pos_embed':
            value = resize_pos_embed(value, (14, 14), (GRID, GRID),
                                     'bicubic', 1)
        torch.testing.assert_close(got, value, rtol=0, atol=1e-5, msg=key)

    test_dir = str(tmp_path / 'test')
    pkl = str(tmp_path / 'preds.pkl')
    test_options = [
        f'test_dataloader.dataset.data_root={ade20k}',
        'test_dataloader.num_workers=0',
        'test_dataloader.persistent_workers=False',
        f'test_dataloader.dataset.pipeline.1.scale=({4 * CROP},{CROP})',
    ] + _ours_tiny_model_options()
    run_tool([sys.executable, 'tools/test.py', S, saved,
              '--work-dir', test_dir, '--out', pkl,
              '--cfg-options', *test_options])
    rows = _metric_lines(osp.join(test_dir, '2*', '2*.json'))
    assert len(rows) == 1
    assert set(rows[0]) >= {'aAcc', 'mIoU', 'mAcc'}
    assert all(math.isfinite(rows[0][k]) for k in ('aAcc', 'mIoU', 'mAcc'))
    with open(pkl, 'rb') as f:
        preds = pickle.load(f)
    assert len(preds) == 2
    # IoUMetric logs percent rounded to 2 decimals
    assert abs(rows[0]['mIoU'] - _miou_from_predictions(preds)) <= 0.006


@pytest.mark.slow
def test_upstream_mmseg_config_trains_from_mmseg_export(ade20k, vit_s_export,
                                                        tmp_path):
    """The wheel's unmodified config + --cfg-options only (no
    custom_imports needed: tools/train.py imports mmequi)."""
    _, sd = vit_s_export
    mmseg_sd = convert_vit_keys(sd, src='mmpretrain', dst='mmseg')
    ckpt = str(tmp_path / 'vit-s_mmseg.pth')
    torch.save({'state_dict': mmseg_sd, 'meta': {}}, ckpt)
    wd = str(tmp_path / 'upstream')
    options = _tiny_options(ade20k) + [
        f'model.pretrained={ckpt}',
        'model.backbone.patch_bias=True',  # mmseg ViT default: no bias
        'model.backbone.final_norm=True',  # use the exported final LN
        f'model.backbone.img_size=({CROP},{CROP})',
    ]
    out = run_tool(train_cmd(UPSTREAM, wd, '--no-validate',
                             options=options)).stdout
    assert f'Loads checkpoint by _local backend from path: {ckpt}' in out
    assert 'do not match exactly' not in out  # mmseg's strict=False report
    state = torch.load(osp.join(wd, 'iter_2.pth'), map_location='cpu',
                       weights_only=False)['state_dict']
    # mmseg's own VisionTransformer (mmcv attention names) was trained
    assert 'backbone.layers.0.attn.attn.in_proj_weight' in state
    for key, value in mmseg_sd.items():
        got = state['backbone.' + key]
        if key == 'pos_embed':
            value = resize_pos_embed(value, (14, 14), (GRID, GRID),
                                     'bicubic', 1)
        torch.testing.assert_close(got, value, rtol=0, atol=1e-5, msg=key)
