"""tools/model_converters/extract_backbone.py: a real iBOT runner checkpoint
(ViT-S/16) exported in every format loads STRICTLY into each downstream
backbone (our mmseg/mmdet/mmpose configs, mmseg's own ViT, timm), with
the teacher's tensors, from a plain ``torch.load(weights_only=True)``."""
import importlib.util
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.logging import MessageHub

from tests.conftest import REPO, run_tool

TOOL = osp.join(REPO, 'tools', 'model_converters', 'extract_backbone.py')
IBOT_CFG = osp.join(REPO, 'configs', 'ibot',
                    'ibot_vit-small-p16_8xb128-amp-coslr-800e_in1k.py')
BENCH = osp.join(REPO, 'configs', 'benchmarks')


def _tool():
    spec = importlib.util.spec_from_file_location('extract_backbone', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def ibot_ckpt(tmp_path_factory):
    """What mmengine's runner writes for our iBOT ViT-S: teacher and student
    under one state_dict, numpy objects in meta, a message hub."""
    from mmpretrain.registry import MODELS
    cfg = Config.fromfile(IBOT_CFG)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    with torch.no_grad():  # teacher != student, so --source is checked
        for p in model.teacher.parameters():
            p.add_(0.01)
    hub = MessageHub.get_instance('test_extract_backbone')
    hub.update_scalar('train/loss', 1.0)
    path = str(tmp_path_factory.mktemp('ibot') / 'epoch_1.pth')
    torch.save(dict(state_dict=model.state_dict(),
                    meta=dict(epoch=1, iter=5, seed=np.int64(0)),
                    message_hub=hub.state_dict()), path)
    teacher = {k[len('teacher.backbone.'):]: v
               for k, v in model.state_dict().items()
               if k.startswith('teacher.backbone.')}
    return path, teacher


def _export(ibot_ckpt, tmp_path, name, **kw):
    out = str(tmp_path / name)
    meta = _tool().export(ibot_ckpt[0], out, **kw)
    return out, meta


def _plain_load(path):
    """torch.load(weights_only=True) in a fresh interpreter WITHOUT mmequi's
    allow-list: the export must be loadable by anyone."""
    code = ('import torch, sys; ck = torch.load(sys.argv[1], '
            'weights_only=True); print(len(ck["state_dict"]), '
            'sorted(ck["meta"]))')
    out = subprocess.run([sys.executable, '-c', code, path], check=True,
                         stdout=subprocess.PIPE, text=True).stdout
    return out


def _backbone(config: str, **options):
    from mmpretrain.registry import MODELS
    cfg = Config.fromfile(osp.join(BENCH, config))
    bb = cfg.model.backbone
    bb.pop('init_cfg', None)
    bb.update(options)
    return MODELS.build(bb)


def _strict(model, state_dict):
    res = model.load_state_dict(dict(state_dict), strict=True)
    assert res.missing_keys == [] and res.unexpected_keys == []


def test_default_export_is_teacher_in_mmpretrain_keys(ibot_ckpt, tmp_path):
    out, meta = _export(ibot_ckpt, tmp_path, 'vit.pth')
    _plain_load(out)
    sd = torch.load(out, weights_only=True)['state_dict']
    teacher = ibot_ckpt[1]
    assert sorted(sd) == sorted(k for k in teacher if k != 'mask_token')
    assert all(torch.equal(sd[k], teacher[k]) for k in sd)
    assert meta['dropped_keys'] == ['mask_token']
    assert meta['arch'] == dict(embed_dims=384, num_layers=12, patch_size=16,
                                pos_embed_tokens=197)
    assert meta['source_epoch'] == 1
    # the student differs
    student, _ = _export(ibot_ckpt, tmp_path, 's.pth', source='student')
    s_sd = torch.load(student, weights_only=True)['state_dict']
    assert not torch.equal(s_sd['layers.0.attn.qkv.weight'],
                           sd['layers.0.attn.qkv.weight'])


@pytest.mark.parametrize('config,options', [
    ('mmseg/upernet_vit-small-p16_8xb2-12e_ade20k-512x512.py', {}),
    ('mmdet/mask-rcnn_vit-small-p16_simplefpn_8xb2-1x_coco.py', {}),
])
def test_strict_into_dense_configs(ibot_ckpt, tmp_path, config, options):
    """pos_embed 14x14 → 32x32 (512 px) / 64x64 (1024 px) by mmpretrain's
    load hook; nothing missing, nothing unexpected."""
    out, _ = _export(ibot_ckpt, tmp_path, 'vit.pth')
    model = _backbone(config, **options)
    _strict(model, torch.load(out, weights_only=True)['state_dict'])
    assert model.layers[0].attn.num_heads == 6


def test_pose_needs_drop_cls_token(ibot_ckpt, tmp_path):
    """ViTPose backbones (with_cls_token=False, 256x192): the plain export
    fails loudly, --drop-cls-token loads strictly."""
    config = 'mmpose/td-hm_vit-small-p16_8xb64-12e_coco-256x192.py'
    plain, _ = _export(ibot_ckpt, tmp_path, 'vit.pth')
    with pytest.raises(Exception):
        _strict(_backbone(config),
                torch.load(plain, weights_only=True)['state_dict'])
    out, meta = _export(ibot_ckpt, tmp_path, 'pose.pth', no_cls=True)
    assert meta['with_cls_token'] is False
    sd = torch.load(out, weights_only=True)['state_dict']
    assert 'cls_token' not in sd and sd['pos_embed'].shape == (1, 196, 384)
    _strict(_backbone(config), sd)


def test_mmseg_own_vit_and_timm(ibot_ckpt, tmp_path):
    from mmseg.models.backbones import VisionTransformer as MMSegViT
    from timm.models.vision_transformer import VisionTransformer as TimmViT
    out, _ = _export(ibot_ckpt, tmp_path, 'seg.pth', fmt='mmseg')
    seg = MMSegViT(img_size=224, embed_dims=384, num_heads=6,
                   patch_bias=True, final_norm=True)
    _strict(seg, torch.load(out, weights_only=True)['state_dict'])
    out, _ = _export(ibot_ckpt, tmp_path, 'timm.pth', fmt='timm')
    timm_vit = TimmViT(img_size=224, patch_size=16, embed_dim=384, depth=12,
                       num_heads=6, num_classes=0)
    _strict(timm_vit, torch.load(out, weights_only=True)['state_dict'])


def test_safetensors(ibot_ckpt, tmp_path):
    from safetensors.torch import load_file, safe_open
    out, _ = _export(ibot_ckpt, tmp_path, 'vit.safetensors',
                     safetensors=True, fmt='timm')
    sd = load_file(out)
    assert 'blocks.11.mlp.fc2.weight' in sd
    with safe_open(out, 'pt') as f:
        assert '"format": "timm"' in f.metadata()['meta']


def test_cli_and_errors(ibot_ckpt, tmp_path):
    out = str(tmp_path / 'cli.pth')
    proc = run_tool([sys.executable, TOOL, ibot_ckpt[0], out])
    assert '12 blocks x 384 dims' in proc.stdout
    assert 'dropped' in proc.stdout and 'mask_token' in proc.stdout
    proc = run_tool([sys.executable, TOOL, ibot_ckpt[0], out], check=False)
    assert proc.returncode != 0 and '--force' in proc.stdout
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        _tool().export(str(tmp_path / 'nope.pth'), str(tmp_path / 'x.pth'))


def test_official_checkpoint_needs_trust_pickle(tmp_path):
    """An official iBOT/DINO release stores argparse.Namespace args: refused
    by the weights-only loader (naming --trust-pickle), exported with the
    teacher's tensors once the user opts in."""
    import argparse

    from mmpretrain.models import VisionTransformer

    from mmequi.models.utils.vit_convert import convert_vit_keys
    torch.manual_seed(0)
    vit = VisionTransformer(arch=dict(embed_dims=32, num_layers=1,
                                      num_heads=2, feedforward_channels=64),
                            img_size=32, patch_size=16)
    timm = convert_vit_keys(vit.state_dict(), 'mmpretrain', 'timm')
    src = str(tmp_path / 'checkpoint.pth')
    torch.save({'teacher': {f'backbone.{k}': v for k, v in timm.items()},
                'student': {f'module.backbone.{k}': v + 1
                            for k, v in timm.items()},
                'args': argparse.Namespace(arch='vit_tiny')}, src)
    out = str(tmp_path / 'out.pth')
    with pytest.raises(Exception, match=r'argparse\.Namespace.*--trust-'
                       'pickle'):
        _tool().export(src, out)
    meta = _tool().export(src, out, trust_pickle=True)
    assert meta['source_layout'] == "official iBOT/DINO checkpoint ['teacher']"
    sd = torch.load(out, weights_only=True)['state_dict']
    assert sorted(sd) == sorted(vit.state_dict())
    for k, v in vit.state_dict().items():
        assert torch.equal(sd[k], v), k
