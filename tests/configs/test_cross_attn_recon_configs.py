"""configs/cross_attn_recon ([X], arXiv 2412.03314): the configs load with
[X]'s 512 -> 256/256 split, the tiny one takes a finite CPU step on plain
normalised views, ViT-S / ViT-L build with the right shapes, and a saved
state dict is read by the backbone exporter and the equivariance probes
(backbone.* / neck.* keys, as VICReg + ours)."""
import copy
import glob
import math
import os.path as osp

import torch
from mmengine.config import Config
from mmengine.logging import MessageHub
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from mmpretrain.registry import MODELS

from mmequi.models.utils.vit_convert import extract_backbone
from mmequi.utils import full_precision, synthetic_batch, train_pipeline
from tests.conftest import REPO

DIR = osp.join(REPO, 'configs', 'cross_attn_recon')
CONFIGS = sorted(glob.glob(osp.join(DIR, '*.py')))
SMALL = osp.join(DIR, 'cross-attn-recon_vit-small-p16_16xb128-amp-coslr-'
                 '800e_in1k.py')
LARGE = osp.join(DIR, 'cross-attn-recon_vit-large-p16_32xb32-amp-coslr-'
                 '100e_in1k.py')
TINY = osp.join(DIR, 'cross-attn-recon_vit-tiny-p16_1xb8-4e_toy-shapes-'
                '64px.py')
PROBE = osp.join(REPO, 'configs', 'benchmarks', 'equivariance',
                 'probe-synthetic_vit-small-p16_1xb256-50e_in1k.py')


def _build(cfg, device='cpu'):
    init_default_scope('mmpretrain')
    torch.manual_seed(0)
    with torch.device(device):
        return MODELS.build(cfg.model)


def test_configs_and_names():
    assert set(CONFIGS) == {SMALL, LARGE, TINY}
    for path in CONFIGS:
        cfg = Config.fromfile(path)
        m = cfg.model
        assert m.type == 'CrossAttnRecon'
        assert m.data_preprocessor.type == 'SelfSupDataPreprocessor'
        assert m.decoder.type == 'CrossAttnReconDecoder'
        assert m.recon_view == 0 and m.recon_loss.loss_weight == 1.0
        # [X]: 512-d embedding, 256 invariant / 256 equivariant
        if path != TINY:
            assert (m.projector.out_channels, m.d_equi) == (512, 256)
        # VICReg + ours' two global views, no local crops
        crop = next(t for t in train_pipeline(cfg)
                    if t['type'] == 'iBOTMultiCrop')
        assert crop['num_local'] == 0
    small = Config.fromfile(SMALL)
    # AAAI-26's VICReg + ours recipe: 800 epochs, 2048 = 16 x 128, 1e-4 B/256
    assert small.train_cfg.max_epochs == 800
    assert small.train_dataloader.batch_size * 16 == 2048
    assert math.isclose(small.optim_wrapper.optimizer.lr, 1e-4 * 2048 / 256)


def test_tiny_config_takes_a_finite_step_on_the_views_themselves():
    cfg = Config.fromfile(TINY)
    model = _build(cfg)
    model.init_weights()
    data = synthetic_batch(cfg, 2)
    out = model.data_preprocessor(copy.deepcopy(data), True)
    views = out['inputs']
    # the target is the normalised view (no g_theta, no intermediate ones)
    assert isinstance(views, list) and len(views) == 2
    mean = torch.tensor(cfg.model.data_preprocessor.mean).view(1, 3, 1, 1)
    std = torch.tensor(cfg.model.data_preprocessor.std).view(1, 3, 1, 1)
    raw = data['inputs'][0].float()  # v1 (2, 3, H, W), uint8 RGB
    torch.testing.assert_close(views[0], (raw - mean) / std)
    wrapper = build_optim_wrapper(model, full_precision(cfg.optim_wrapper))
    MessageHub.get_current_instance().update_info('epoch', 1)
    dec = model.decoder.proj_kv.weight.detach().clone()
    log_vars = model.train_step(data, wrapper)
    assert set(log_vars) >= {'loss', 'loss_inv', 'loss_var', 'loss_cov',
                             'loss_recon'}
    assert all(math.isfinite(float(v)) for v in log_vars.values())
    assert not torch.equal(dec, model.decoder.proj_kv.weight.detach())


def test_vit_small_builds_with_the_right_shapes():
    model = _build(Config.fromfile(SMALL), 'meta')
    bb = model.backbone
    assert (bb.embed_dims, bb.num_layers, bb.layers[0].attn.num_heads) == (
        384, 12, 6)
    assert model.neck.layers[0].in_features == 384
    assert model.neck.out_channels == 512 and model.k_inv == 256
    assert model.expander.layers[0].in_features == 256
    assert model.decoder.in_channels == 256
    assert model.decoder.proj_q.in_features == 256
    # one forward on meta: the reconstruction has the view's shape
    views = [torch.empty(2, 3, 224, 224, device='meta') for _ in range(2)]
    e = model._embed_pair(views)
    assert e.shape == (2, 2, 197, 512)
    assert model.decode(e, (14, 14)).shape == (2, 3, 224, 224)


def test_vit_large_builds_with_the_right_shapes():
    cfg = Config.fromfile(LARGE)
    model = _build(cfg, 'meta')
    bb = model.backbone
    assert (bb.embed_dims, bb.num_layers, bb.layers[0].attn.num_heads) == (
        1024, 24, 16)
    assert model.neck.layers[0].in_features == 1024
    assert model.k_inv == 256 and model.decoder.in_channels == 256
    assert cfg.train_dataloader.batch_size * 32 == 1024


def test_checkpoint_is_read_by_the_exporter_and_the_probe(tmp_path):
    cfg = Config.fromfile(TINY)
    model = _build(cfg)
    model.init_weights()
    ckpt = tmp_path / 'epoch_1.pth'
    torch.save(dict(state_dict=model.state_dict()), ckpt)
    # tools/model_converters/extract_backbone.py (no teacher: student)
    sd, _ = extract_backbone(torch.load(ckpt), source='student')
    vit = MODELS.build(dict(cfg.model.backbone, type='VisionTransformer'))
    vit.load_state_dict(sd, strict=True)
    torch.testing.assert_close(vit.pos_embed, model.backbone.pos_embed)
    # the equivariance probe, on the equivariant half of the projector; a
    # backbone without iBOT's mask_token (as for VICReg + ours)
    probe = Config.fromfile(PROBE).model
    probe.update(backbone=dict(cfg.model.backbone, type='VisionTransformer',
                               out_type='raw'),
                 dummy_size=64, backbone_checkpoint=str(ckpt),
                 prefix='backbone.', neck=cfg.model.projector,
                 feature='mean_patch', channels=(32, 64),
                 cache_features=False)
    probe = _build(Config(dict(model=probe)))
    probe.init_weights()
    assert probe.feature_dim == 32
    x = torch.randn(2, 3, 64, 64)
    model.eval()  # no drop path
    with torch.no_grad():
        expect = model._embed(x)[:, 1:, 32:].mean(1)
        feats = probe.extract_feat(dict(views=[x] * 5, keys=None))
    torch.testing.assert_close(feats[0], expect)
