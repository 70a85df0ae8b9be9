"""HomographyEstimator + HomographyHead + HomographyDataPreprocessor:
normalisation against cv2/numpy, shapes, the loss = MSE(offsets / scale)
recomputed by hand, predictions in pixels, a frozen backbone gets no
gradient (and a fine-tuned one does), and the benchmark configs' backbone
loads an mmpretrain export with zero missing / unexpected keys (a wrongly
prefixed export is refused, naming the keys)."""
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from mmpretrain.models import VisionTransformer
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from mmequi.models.algorithms import (HomographyDataPreprocessor,
                                      HomographyEstimator)
from mmequi.models.heads import HomographyHead
from tests.conftest import REPO

CFG_DIR = osp.join(REPO, 'configs', 'benchmarks', 'homography')
FT = osp.join(CFG_DIR, 'homography_vit-small-p16_8xb64-12e_s-coco.py')
FROZEN = osp.join(CFG_DIR, 'homography_vit-small-p16-frozen_8xb64-12e_s-coco.py')
MEAN = np.array([123.675, 116.28, 103.53])
STD = np.array([58.395, 57.12, 57.375])
TINY_ARCH = dict(embed_dims=32, num_layers=2, num_heads=2,
                 feedforward_channels=64)


def _tiny_model(freeze: bool = False, input_size: int = 32):
    init_default_scope('mmpretrain')
    return HomographyEstimator(
        backbone=dict(type='VisionTransformer', arch=TINY_ARCH,
                      img_size=input_size, patch_size=16,
                      out_type='featmap'),
        head=dict(type='HomographyHead', channels=(16, 8)),
        offset_scale=8.0, freeze_backbone=freeze,
        data_preprocessor=dict(type='HomographyDataPreprocessor',
                               input_size=input_size))


def _batch(b: int = 3, p: int = 24, c: int = 1, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    inputs = torch.randint(0, 256, (b, 2, c, p, p), generator=g,
                           dtype=torch.uint8)
    samples = []
    for _ in range(b):
        s = DataSample()
        s.set_field((torch.rand(4, 2, generator=g) * 2 - 1) * 8,
                    'gt_offsets')
        samples.append(s)
    return dict(inputs=inputs, data_samples=samples)


def test_preprocessor_gray_replicated_resized_normalised():
    pre = HomographyDataPreprocessor(input_size=40)
    data = _batch(b=2, p=24, c=1)
    out = pre(data)['inputs']
    assert out.shape == (2, 2, 3, 40, 40) and out.dtype == torch.float32
    for i in range(2):
        for j in range(2):
            gray = data['inputs'][i, j, 0].numpy().astype(np.float32)
            up = cv2.resize(gray, (40, 40), interpolation=cv2.INTER_LINEAR)
            for ch in range(3):
                ref = (up - MEAN[ch]) / STD[ch]
                np.testing.assert_allclose(out[i, j, ch].numpy(), ref,
                                           atol=2e-4)
    # colour: BGR -> RGB, no resize with input_size equal to P
    pre_c = HomographyDataPreprocessor(input_size=24)
    data_c = _batch(b=1, p=24, c=3)
    out_c = pre_c(data_c)['inputs']
    bgr = data_c['inputs'][0, 1].numpy().astype(np.float64)  # (3, P, P)
    for ch in range(3):
        ref = (bgr[2 - ch] - MEAN[ch]) / STD[ch]
        np.testing.assert_allclose(out_c[0, 1, ch].numpy(), ref, atol=1e-5)
    # list input (pseudo_collate) = stacked input
    listed = pre_c(dict(inputs=list(data_c['inputs']),
                        data_samples=data_c['data_samples']))['inputs']
    assert torch.equal(listed, out_c)
    with pytest.raises(ValueError, match=r'\(B, 2, C, P, P\)'):
        pre(dict(inputs=torch.zeros(2, 3, 24, 24, dtype=torch.uint8)))


def test_head_shapes_and_errors():
    head = HomographyHead(in_channels=64)
    assert head(torch.randn(2, 64, 14, 14)).shape == (2, 8)
    assert head(torch.randn(2, 64, 2, 2)).shape == (2, 8)
    assert head.convs[1].conv.stride == (2, 2)
    assert head.fc.in_features == 128 * 16
    with pytest.raises(ValueError, match='expects'):
        head(torch.randn(2, 32, 4, 4))


def test_shapes_loss_and_predictions():
    model = _tiny_model()
    model.init_weights()
    model.train()
    data = model.data_preprocessor(_batch(b=3, p=24), training=True)
    inputs, samples = data['inputs'], data['data_samples']
    assert inputs.shape == (3, 2, 3, 32, 32)
    feat = model.extract_feat(inputs)
    assert feat.shape == (3, 64, 2, 2)  # [f_A ; f_B], 2 x 2 tokens
    # channels [0, C) are patch A's token map, [C, 2C) patch B's
    fa = model.backbone(inputs[:, 0])[-1]
    fb = model.backbone(inputs[:, 1])[-1]
    torch.testing.assert_close(feat, torch.cat([fa, fb], 1))
    out = model(inputs, mode='tensor')
    assert out.shape == (3, 8)
    loss = model(inputs, samples, mode='loss')
    assert set(loss) == {'loss'}
    target = torch.stack([s.gt_offsets for s in samples]).reshape(3, 8) / 8.0
    torch.testing.assert_close(loss['loss'], F.mse_loss(out, target))
    assert torch.isfinite(loss['loss'])
    model.eval()
    with torch.no_grad():
        preds = model(inputs, samples, mode='predict')
        ref = model(inputs, mode='tensor').reshape(3, 4, 2) * 8.0
    assert all(p.pred_offsets.shape == (4, 2) for p in preds)
    torch.testing.assert_close(torch.stack([p.pred_offsets for p in preds]),
                               ref)
    with pytest.raises(KeyError, match='gt_offsets'):
        model(inputs, [DataSample() for _ in range(3)], mode='loss')


@pytest.mark.parametrize('freeze', [True, False])
def test_frozen_backbone_gets_no_gradient(freeze):
    model = _tiny_model(freeze=freeze)
    model.init_weights()
    model.train()
    assert model.backbone.training is not freeze
    assert model.head.training
    data = model.data_preprocessor(_batch(b=2, p=24), training=True)
    model(**data, mode='loss')['loss'].backward()
    backbone_grads = [p.grad for p in model.backbone.parameters()]
    if freeze:
        assert all(not p.requires_grad for p in model.backbone.parameters())
        assert all(g is None for g in backbone_grads)
    else:
        assert all(g is not None for g in backbone_grads)
        assert any(g.abs().sum() > 0 for g in backbone_grads)
    head_grads = [p.grad for p in model.head.parameters()]
    assert all(g is not None for g in head_grads)
    assert model.head.fc.weight.grad.abs().sum() > 0


def _export(path: str, prefix: str = '') -> dict:
    torch.manual_seed(0)
    sd = VisionTransformer(arch='deit-small', img_size=224,
                           patch_size=16).state_dict()
    sd = {prefix + k: torch.randn_like(v) * 0.02 for k, v in sd.items()}
    torch.save({'state_dict': sd, 'meta': {}}, path)
    return sd


def test_configs_load_the_export_strictly(tmp_path):
    path = str(tmp_path / 'vit-s_backbone.pth')
    sd = _export(path)
    init_default_scope('mmpretrain')
    cfg = Config.fromfile(FT)
    assert cfg.default_scope == 'mmpretrain'
    assert cfg.custom_imports.imports == ['mmequi']
    cfg.model.backbone.init_cfg.checkpoint = path
    model = MODELS.build(cfg.model)
    # the export has exactly the config backbone's keys and shapes
    own = model.backbone.state_dict()
    assert set(own) == set(sd)
    assert all(own[k].shape == v.shape for k, v in sd.items())
    model.init_weights()  # Pretrained + HomographyEstimator's key check
    for key in ('layers.3.attn.qkv.weight', 'pos_embed', 'cls_token',
                'patch_embed.projection.weight', 'ln1.weight'):
        assert torch.equal(model.backbone.state_dict()[key], sd[key]), key
    assert model.backbone.arch_settings['num_heads'] == 6
    model.eval()
    data = model.data_preprocessor(_batch(b=1, p=128), training=False)
    with torch.no_grad():
        assert model.extract_feat(data['inputs']).shape == (1, 768, 14, 14)
    # the fine-tuning optimiser: layer decay over the 12 blocks
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    scales = sorted({g['lr_scale'] for g in wrapper.optimizer.param_groups})
    assert scales[-1] == 1.0 and scales[0] == pytest.approx(0.65**13)
    # a checkpoint with a 'backbone.' prefix loads nothing: refused, named
    bad = str(tmp_path / 'prefixed.pth')
    _export(bad, prefix='backbone.')
    cfg.model.backbone.init_cfg.checkpoint = bad
    with pytest.raises(ValueError, match='missing keys.*unexpected keys '
                       r"\['backbone\."):
        MODELS.build(cfg.model).init_weights()


def test_frozen_config():
    init_default_scope('mmpretrain')
    cfg = Config.fromfile(FROZEN)
    assert cfg.model.freeze_backbone is True
    assert 'constructor' not in cfg.optim_wrapper
    cfg.model.backbone.init_cfg = None
    model = MODELS.build(cfg.model)
    assert not any(p.requires_grad for p in model.backbone.parameters())
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    assert wrapper.optimizer.defaults['lr'] == 1e-3


def test_vit_large_config():
    """ViT-L/16: 24 blocks of 16 heads, a 2048-channel head input and layer
    decay over 24 blocks (built on the meta device: no memory)."""
    init_default_scope('mmpretrain')
    cfg = Config.fromfile(osp.join(
        CFG_DIR, 'homography_vit-large-p16_8xb64-12e_s-coco.py'))
    assert cfg.optim_wrapper.paramwise_cfg.num_layers == 24
    cfg.model.backbone.init_cfg = None
    with torch.device('meta'):
        model = MODELS.build(cfg.model)
        ref = VisionTransformer(arch='large', img_size=224, patch_size=16)
    own = model.backbone.state_dict()
    assert {k: v.shape for k, v in own.items()} == \
        {k: v.shape for k, v in ref.state_dict().items()}
    assert model.backbone.arch_settings['num_heads'] == 16
    assert model.head.convs[0].conv.in_channels == 2048
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    scales = sorted({g['lr_scale'] for g in wrapper.optimizer.param_groups})
    assert scales[0] == pytest.approx(0.75**25)
