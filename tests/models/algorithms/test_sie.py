"""SIE (Garrido et al., ICML 2023): a tiny ResNet-18 model on 32 px views."""
import numpy as np
import pytest
import torch
from mmengine.registry import init_default_scope
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from mmequi.models.losses import SIELoss

B, D_INV = 4, 192  # uneven split of the 512-d ResNet-18 representation


def build(condition='rot', **kw):
    init_default_scope('mmpretrain')
    torch.manual_seed(0)
    cfg = dict(
        type='SIE',
        data_preprocessor=dict(type='SelfSupDataPreprocessor',
                               mean=[123.675, 116.28, 103.53],
                               std=[58.395, 57.12, 57.375], to_rgb=True),
        backbone=dict(type='ResNet', depth=18),
        inv_projector=dict(type='MLPNeck', in_channels=D_INV,
                           hidden_channels=32, out_channels=24),
        equi_projector=dict(type='MLPNeck', in_channels=512 - D_INV,
                            hidden_channels=32, out_channels=8),
        predictor=dict(type='HypernetPredictor',
                       group_dims=4 if condition == 'rot' else 6,
                       embed_dims=8, hidden_channels=16),
        d_inv=D_INV, condition=condition)
    cfg.update(kw)
    model = MODELS.build(cfg)
    model.init_weights()
    return model


def _quat(rng):
    q = rng.standard_normal(4)
    q /= np.linalg.norm(q)
    return (q if q[3] >= 0 else -q).astype(np.float32)


def raw_batch(fields=('rot_quat', 'color_diff')):
    g = torch.Generator().manual_seed(0)
    rng = np.random.default_rng(0)
    samples = []
    for _ in range(B):
        ds = DataSample()
        if 'rot_quat' in fields:
            ds.set_field(_quat(rng), 'rot_quat')
        if 'color_diff' in fields:
            ds.set_field(rng.uniform(-1, 1, 2).astype(np.float32),
                         'color_diff')
        samples.append(ds)
    return dict(inputs=[torch.randint(0, 256, (B, 3, 32, 32), generator=g,
                                      dtype=torch.uint8) for _ in range(2)],
                data_samples=samples)


def _record_feats(model):
    """Wrap extract_feat to keep each view's representation (with grad)."""
    feats = []
    orig = model.extract_feat

    def extract_feat(x):
        y = orig(x)
        y.retain_grad()
        feats.append(y)
        return y

    model.extract_feat = extract_feat
    return feats


@pytest.mark.parametrize('condition', ['rot', 'rot_color'])
def test_loss_step_matches_components(condition):
    model = build(condition)
    data = model.data_preprocessor(raw_batch(), True)
    feats = _record_feats(model)
    losses = model(**data, mode='loss')
    assert set(losses) == {'loss_inv', 'loss_equi', 'loss_var', 'loss_cov'}
    assert all(torch.isfinite(v) for v in losses.values())
    # recompute from the recorded representations, by hand
    y1, y2 = (f.detach() for f in feats)
    assert y1.shape == (B, 512)
    samples = data['data_samples']
    g = torch.stack([
        torch.as_tensor(np.concatenate(
            [ds.rot_quat] + ([ds.color_diff] if condition == 'rot_color'
                             else [])))
        for ds in samples
    ])
    with torch.no_grad():
        u1, u2 = (model.inv_projector(y[:, :D_INV]) for y in (y1, y2))
        e1, e2 = (model.equi_projector(y[:, D_INV:]) for y in (y1, y2))
        w, _ = model.predictor.weights(g)
        p2 = torch.einsum('bij,bj->bi', w, e1)
        ref = SIELoss()(u1, u2, e1, e2, p2)
    for k in ref:
        torch.testing.assert_close(losses[k], ref[k], rtol=1e-5, atol=1e-6)
    sum(losses.values()).backward()
    assert model.backbone.conv1.weight.grad.abs().sum() > 0
    for name, p in model.predictor.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_invariant_and_equivariant_parts_are_separate():
    model = build()
    data = model.data_preprocessor(raw_batch(), True)
    for key, zero, nonzero in (
            ('loss_inv', slice(D_INV, None), slice(None, D_INV)),
            ('loss_equi', slice(None, D_INV), slice(D_INV, None))):
        model.zero_grad()
        feats = _record_feats(model)
        losses = model(**data, mode='loss')
        losses[key].backward()
        for y in feats:  # both views
            assert y.grad[:, zero].abs().sum() == 0, key
            assert y.grad[:, nonzero].abs().sum() > 0, key
        del model.extract_feat  # restore the method
    # structurally: the projectors' inputs are the slices
    assert model.inv_projector.layers[0].in_features == D_INV
    assert model.equi_projector.layers[0].in_features == 512 - D_INV


def test_extract_feat_and_split():
    model = build()
    x = torch.randn(3, 3, 32, 32)
    model.eval()
    y = model.extract_feat(x)
    assert y.shape == (3, 512)
    inv, equi = model.split(y)
    assert inv.shape == (3, D_INV) and equi.shape == (3, 512 - D_INV)
    torch.testing.assert_close(torch.cat([inv, equi], 1), y)
    ys = model(list([x, x]), mode='tensor')
    assert len(ys) == 2 and ys[0].shape == (3, 512)


def test_conditioning_errors():
    model = build('rot_color')
    data = model.data_preprocessor(raw_batch(fields=('rot_quat', )), True)
    with pytest.raises(KeyError, match="'color_diff'.*PackInputs"):
        model(**data, mode='loss')
    model = build('rot')
    data = model.data_preprocessor(raw_batch(fields=()), True)
    with pytest.raises(KeyError, match="'rot_quat'.*algorithm_keys"):
        model(**data, mode='loss')
    bad = raw_batch()
    bad['data_samples'][1].set_field(np.zeros(3, np.float32), 'rot_quat')
    with pytest.raises(ValueError, match="'rot_quat'.*4 values"):
        model(**model.data_preprocessor(bad, True), mode='loss')
    with pytest.raises(ValueError, match='condition'):
        build('color')
    with pytest.raises(ValueError, match='group_dims=4.*6 values'):
        build('rot_color', predictor=dict(type='HypernetPredictor',
                                          group_dims=4, embed_dims=8))


def test_config_errors():
    with pytest.raises(ValueError, match='inv_projector.in_channels'):
        build(d_inv=100)
    with pytest.raises(ValueError, match='embed_dims'):
        build(predictor=dict(type='HypernetPredictor', group_dims=4,
                             embed_dims=9))
    model = build(equi_projector=dict(type='MLPNeck', in_channels=100,
                                      hidden_channels=8, out_channels=8))
    data = model.data_preprocessor(raw_batch(), True)
    with pytest.raises(ValueError, match=r'192 \+ 100'):
        model(**data, mode='loss')
    model = build()
    bad = raw_batch()
    bad['inputs'].append(bad['inputs'][0])
    with pytest.raises(ValueError, match='2 views'):
        model(**model.data_preprocessor(bad, True), mode='loss')


# ---------------------------------------------- SIE(θ) on a tiny ViT
MEAN, STD = [123.675, 116.28, 103.53], [58.395, 57.12, 57.375]
V_INV = 12  # of the 20-d projected [CLS]


def build_theta(transform=dict(type='compose'), view_index=1,
                num_intermediate=0, out_type='cls_token', **kw):
    """SIE(condition='theta'): a 2-layer ViT on 32 px views, [CLS] (or mean
    pool) -> projector 32 -> 20 split 12 / 8; group_dims derived."""
    init_default_scope('mmpretrain')
    torch.manual_seed(0)
    cfg = dict(
        type='SIE',
        data_preprocessor=dict(
            type='EquiReconDataPreprocessor', mean=MEAN, std=STD,
            to_rgb=False, transform=transform,
            num_intermediate=num_intermediate, view_index=view_index),
        backbone=dict(type='VisionTransformer',
                      arch=dict(embed_dims=32, num_layers=2, num_heads=2,
                                feedforward_channels=64),
                      img_size=32, patch_size=8, out_type=out_type),
        neck=None,
        projector=dict(type='MLPNeck', in_channels=32, hidden_channels=48,
                       out_channels=20, num_layers=2,
                       norm_cfg=dict(type='LN'), act='GELU'),
        inv_projector=dict(type='MLPNeck', in_channels=V_INV,
                           hidden_channels=16, out_channels=16),
        equi_projector=dict(type='MLPNeck', in_channels=20 - V_INV,
                            hidden_channels=16, out_channels=6),
        predictor=dict(type='HypernetPredictor', embed_dims=6,
                       hidden_channels=16),
        d_inv=V_INV, condition='theta')
    cfg.update(kw)
    model = MODELS.build(cfg)
    model.init_weights()
    return model


def theta_batch():
    g = torch.Generator().manual_seed(1)
    return dict(inputs=[torch.randint(0, 256, (B, 3, 32, 32), generator=g,
                                      dtype=torch.uint8) for _ in range(2)],
                data_samples=[DataSample() for _ in range(B)])


def _record_g(model):
    seen = []
    orig = model.predictor.forward

    def forward(z, g):
        seen.append(g.detach().clone())
        return orig(z, g)

    model.predictor.forward = forward
    return seen


@pytest.mark.parametrize('view_index', [1, 0])
def test_theta_condition_sees_the_theta_that_made_v2(view_index):
    """The predictor's g, mapped back to θ, recomputes v2 = g_θ(u) from the
    raw view; the loss equals the components recomputed by hand with the
    prediction going from the plain view to g_θ's view."""
    from mmequi.param_transforms import Compose
    model = build_theta(view_index=view_index)
    assert model.predictor.group_dims == 8  # compose: 1 + 4 + 1 + 2
    raw = theta_batch()
    u = raw['inputs'][view_index].clone()
    torch.manual_seed(5)
    data = model.data_preprocessor(raw, True)
    assert data['inputs']['targets'].shape[0] == 0  # K = 0: none built
    seen = _record_g(model)
    feats = _record_feats(model)
    losses = model(**data, mode='loss')
    assert set(losses) == {'loss_inv', 'loss_equi', 'loss_var', 'loss_cov'}
    (g, ) = seen
    t = Compose()
    low, high = (torch.tensor(x, dtype=torch.float32) for x in (t.low,
                                                                  t.high))
    assert g.abs().max() <= 1 and g.abs().max() > 0.5
    theta = g * (high - low) / 2 + (high + low) / 2
    mean = torch.tensor(MEAN).view(3, 1, 1)
    std = torch.tensor(STD).view(3, 1, 1)
    v2 = t.apply(u.float() / 255, theta)
    torch.testing.assert_close(data['inputs']['views'][view_index],
                               (v2 * 255 - mean) / std, atol=1e-3, rtol=0)
    # the other view is not transformed
    other = raw['inputs'][1 - view_index].float()
    torch.testing.assert_close(data['inputs']['views'][1 - view_index],
                               (other - mean) / std, atol=1e-4, rtol=0)
    y = [f.detach() for f in feats]
    src, dst = 1 - view_index, view_index
    with torch.no_grad():
        u1, u2 = (model.inv_projector(y[i][:, :V_INV]) for i in (src, dst))
        e1, e2 = (model.equi_projector(y[i][:, V_INV:]) for i in (src, dst))
        w, _ = model.predictor.weights(g)
        ref = SIELoss()(u1, u2, e1, e2, torch.einsum('bij,bj->bi', w, e1))
    for k in ref:
        torch.testing.assert_close(losses[k], ref[k], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize('out_type', ['cls_token', 'avg_featmap'])
def test_theta_condition_vit_pooling_and_step(out_type):
    model = build_theta(transform=dict(type='rotation'), out_type=out_type)
    assert model.predictor.group_dims == 1
    x = torch.randn(3, 3, 32, 32)
    model.eval()
    with torch.no_grad():
        pooled = model.backbone(x)[-1]
        torch.testing.assert_close(model.extract_feat(x),
                                   model.projector(pooled))
        if out_type == 'avg_featmap':  # mean of the patch tokens, then LN
            model.backbone.out_type = 'raw'
            tokens = model.backbone(x)[-1][:, 1:]
            model.backbone.out_type = out_type
            torch.testing.assert_close(
                pooled, model.backbone.ln2(tokens.mean(1)))
        else:  # the [CLS] token after the final LayerNorm
            model.backbone.out_type = 'raw'
            torch.testing.assert_close(pooled, model.backbone(x)[-1][:, 0])
            model.backbone.out_type = out_type
    model.train()
    data = model.data_preprocessor(theta_batch(), True)
    losses = model(**data, mode='loss')
    sum(losses.values()).backward()
    assert all(torch.isfinite(v) for v in losses.values())
    assert model.backbone.cls_token.grad.abs().sum() > 0
    assert model.predictor.hypernet.layers[0].weight.grad.abs().sum() > 0


def test_theta_condition_errors():
    with pytest.raises(ValueError, match='group_dims=4.*8 values'):
        build_theta(predictor=dict(type='HypernetPredictor', group_dims=4,
                                   embed_dims=6))
    with pytest.raises(ValueError, match='num_intermediate=0'):
        build_theta(num_intermediate=2)
    with pytest.raises(ValueError, match='has none'):
        build_theta(transform=dict(type='identity'))
    with pytest.raises(TypeError, match='EquiReconDataPreprocessor'):
        build_theta(data_preprocessor=dict(type='SelfSupDataPreprocessor'))
    model = build_theta()
    data = model.data_preprocessor(theta_batch(), True)
    for ds in data['data_samples']:
        del ds.equi_theta
    with pytest.raises(KeyError, match="'equi_theta'.*samples \\[0, 1"):
        model(**data, mode='loss')
