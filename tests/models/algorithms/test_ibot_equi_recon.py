"""iBOT + reconstruction: split, decoders, losses, d_equi = 0 == iBOT."""
import copy

import pytest
import torch
from mmengine.registry import init_default_scope
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from mmequi.models.utils.equi_recon import patch_grid
from tests.conftest import loss_terms, total_loss
from tests.models.algorithms.test_ibot import (all_token_teacher,
                                               assert_same_step,
                                               perturb_centres,
                                               separate_student_cls)

B, L, K_OUT, D_EQUI = 3, 2, 64, 16

PRE = dict(type='EquiReconDataPreprocessor', mean=[123.675, 116.28, 103.53],
           std=[58.395, 57.12, 57.375], to_rgb=False,
           transform=dict(type='rotation', max_angle=45.0),
           num_intermediate=2)


def build(d_equi=D_EQUI, **kw):
    init_default_scope('mmpretrain')
    torch.manual_seed(0)
    cfg = dict(
        type='iBOTEquiRecon', data_preprocessor=PRE,
        backbone=dict(type='iBOTViT',
                      arch=dict(embed_dims=32, num_layers=2, num_heads=2,
                                feedforward_channels=64),
                      img_size=32, patch_size=8, drop_path_rate=0.0),
        neck=dict(type='iBOTNeck', in_channels=32, hidden_channels=48,
                  bottleneck_channels=16, out_channels=K_OUT),
        loss=dict(type='iBOTLoss', out_dim=K_OUT - d_equi,
                  patch_out_dim=K_OUT - d_equi, num_local=L),
        head=dict(type='EquiReconHead', d_equi=d_equi,
                  decoder=dict(type='ReconDecoder', patch_size=8,
                               channels=(8, 8, 8, 8))))
    for key in ('decoder', 'topk'):  # head keys
        if key in kw:
            cfg['head'][key] = kw.pop(key)
    cfg.update(kw)
    model = MODELS.build(cfg)
    model.init_weights()
    model.teacher_temp = model.teacher_patch_temp = 0.04
    return model


def raw_batch(seed=0):
    g = torch.Generator().manual_seed(seed)
    inputs = [torch.randint(0, 256, (B, 3, 32, 32), generator=g,
                            dtype=torch.uint8) for _ in range(2)]
    inputs += [torch.randint(0, 256, (B, 3, 16, 16), generator=g,
                             dtype=torch.uint8) for _ in range(L)]
    samples = []
    for b in range(B):
        s = DataSample()
        s.set_mask(torch.rand(2, 4, 4, generator=g) > 0.5)
        samples.append(s)
    return dict(inputs=inputs, data_samples=samples)


def test_preprocessed_views_and_targets():
    model = build()
    torch.manual_seed(1)
    data = model.data_preprocessor(raw_batch(), True)
    views, targets = data['inputs']['views'], data['inputs']['targets']
    assert len(views) == 2 + L and targets.shape == (2, B, 3, 32, 32)
    pre = model.data_preprocessor
    theta = torch.stack([ds.equi_theta for ds in data['data_samples']])
    assert theta.shape == (B, 1) and theta.abs().max() <= 45
    # recomputed independently from the recorded θ
    u01 = raw_batch()['inputs'][1].float() / 255
    t = pre.param_transform
    torch.testing.assert_close(pre.pixels.denormalize(views[1]),
                               t.apply(u01, theta), atol=1e-5, rtol=0)
    torch.testing.assert_close(pre.pixels.denormalize(targets[0]),
                               t.apply(u01, theta / 3), atol=1e-5, rtol=0)
    torch.testing.assert_close(pre.pixels.denormalize(views[0]),
                               raw_batch()['inputs'][0].float() / 255,
                               atol=1e-5, rtol=0)


def test_recon_loss_is_the_hand_computed_mse_of_the_decoders():
    model = build()
    data = model.data_preprocessor(raw_batch(), True)
    torch.manual_seed(0)
    losses = model(**data, mode='loss')
    assert set(loss_terms(losses)) == {'loss_cls', 'loss_patch', 'loss_recon'}
    preds = model.reconstruct(data['inputs'], data['data_samples'])
    targets = data['inputs']['targets']
    by_hand = sum(((p - t) ** 2).mean() for p, t in zip(preds, targets)) / 2
    torch.testing.assert_close(losses['loss_recon'], by_hand, rtol=1e-5,
                               atol=1e-6)


def test_decoder_input_is_the_equi_split_of_both_views():
    model = build()
    data = model.data_preprocessor(raw_batch(), True)
    seen = []
    model.head.decoders[0].register_forward_hook(
        lambda m, a, out: seen.append(a[0].detach()))
    model(**data, mode='loss')
    views = data['inputs']['views']
    masks = torch.stack([s.mask for s in data['data_samples']])
    masks = masks.transpose(0, 1).flatten(0, 1).flatten(1)
    with torch.no_grad():
        tokens = model.backbone(torch.cat(views[:2]), mask=masks)
        z = model.neck.forward_patch(tokens[:, 1:])[..., K_OUT - D_EQUI:]
    expected = torch.cat([z[:B], z[B:]], dim=-1)  # [z1_equi ; z2_equi]
    assert seen[0].shape == (B, 16, 2 * D_EQUI)
    torch.testing.assert_close(seen[0], expected, rtol=1e-5, atol=1e-6)


def test_d_equi_zero_gives_exactly_ibot_gradients():
    equi = build(d_equi=0)
    plain_cfg = dict(
        type='iBOT', backbone=dict(type='iBOTViT',
                                   arch=dict(embed_dims=32, num_layers=2,
                                             num_heads=2,
                                             feedforward_channels=64),
                                   img_size=32, patch_size=8,
                                   drop_path_rate=0.0),
        neck=dict(type='iBOTNeck', in_channels=32, hidden_channels=48,
                  bottleneck_channels=16, out_channels=K_OUT),
        loss=dict(type='iBOTLoss', out_dim=K_OUT, patch_out_dim=K_OUT,
                  num_local=L))
    plain = MODELS.build(plain_cfg)
    missing = plain.load_state_dict(equi.state_dict(), strict=True)
    assert not missing.missing_keys and not missing.unexpected_keys
    plain.teacher_temp = plain.teacher_patch_temp = 0.04
    assert not hasattr(equi, 'decoders')
    data = equi.data_preprocessor(raw_batch(), True)
    le = equi(**data, mode='loss')
    lp = plain(inputs=data['inputs']['views'],
               data_samples=data['data_samples'], mode='loss')
    assert set(loss_terms(le)) == set(loss_terms(lp)) == {'loss_cls', 'loss_patch'}
    assert_exact_gradients(le, lp, equi, plain)


def assert_exact_gradients(losses, base_losses, model, base):
    """Backpropagate both summed losses; every parameter of ``base`` has
    bit-identical gradients (or none) in ``model`` (d_equi = 0 == base)."""
    total_loss(losses).backward()
    total_loss(base_losses).backward()
    grads = dict(model.named_parameters())
    for name, p in base.named_parameters():
        if p.grad is None:
            assert grads[name].grad is None, name
        else:
            torch.testing.assert_close(grads[name].grad, p.grad, rtol=0,
                                       atol=0, msg=name)


def reference_equi_loss(model, inputs, data_samples):
    """The loss as first written: teacher logits of every patch token,
    separate student neck calls for the [CLS] and the patch tokens, the
    decoder input [z1 ; z2] from two indexed views."""
    views, targets = model._views_and_targets(inputs)
    globals_, locals_, masks = model._split_views(views, data_samples)
    inv_c = slice(0, model.k_cls_inv)
    inv_p = slice(0, model.k_patch_inv)
    t_cls, t_patch = all_token_teacher(model, globals_, inv_c, inv_p)
    s = model.backbone(globals_, mask=masks)
    s_cls = separate_student_cls(model, s, locals_, inv_c)
    h = model.neck.embed(s[:, 1:])
    s_patch = model.neck.project_patch(h[masks], inv_p)
    z = model.neck.project_patch(h, slice(inv_p.stop, None))
    z = z.unflatten(0, (2, -1))  # (2, B, N, d)
    losses = model.ibot_loss(s_cls, s_patch, t_cls, t_patch, masks,
                             teacher_temp=model.teacher_temp,
                             teacher_patch_temp=model.teacher_patch_temp)
    vi = model.head.view_index
    z_cat = torch.cat([z[1 - vi], z[vi]], dim=-1)
    hw = patch_grid(model.backbone, globals_)
    preds = [dec(z_cat, hw) for dec in model.head.decoders]
    losses['loss_recon'] = model.head.recon_loss(preds, targets)
    return losses


@pytest.mark.parametrize('view_index', [0, 1])
@pytest.mark.parametrize('dtype', [torch.float32, torch.bfloat16])
def test_loss_and_gradients_equal_the_all_token_computation(dtype,
                                                            view_index):
    """One neck MLP pass over [CLS] + patch tokens, masked-only teacher
    projections (mean trick for the centre) and the one-copy decoder input
    leave the step unchanged (fp32 and bf16 autocast)."""
    model = build(data_preprocessor=dict(PRE, view_index=view_index))
    perturb_centres(model)
    ref = copy.deepcopy(model)
    torch.manual_seed(3)
    data = model.data_preprocessor(raw_batch(), True)
    with torch.autocast('cpu', dtype=torch.bfloat16,
                        enabled=dtype is torch.bfloat16):
        got = model(**data, mode='loss')
        expected = reference_equi_loss(ref, **data)
    assert set(loss_terms(got)) == {'loss_cls', 'loss_patch', 'loss_recon'}
    assert_same_step(model, ref, got, expected, dtype)
    assert model.head.decoders[0].linear.weight.grad.abs().sum() > 0


def test_recon_loss_alone_reaches_the_backbone():
    model = build()
    data = model.data_preprocessor(raw_batch(), True)
    model(**data, mode='loss')['loss_recon'].backward()
    g = model.backbone.layers[0].attn.qkv.weight.grad
    assert g is not None and g.abs().sum() > 0
    assert model.neck.mlp[0].weight.grad.abs().sum() > 0
    # ... through the equivariant slice of the last layer only
    v = model.neck.last_layer.weight_v.grad
    assert v[:K_OUT - D_EQUI].abs().sum() == 0
    assert v[K_OUT - D_EQUI:].abs().sum() > 0
    assert all(p.grad is None for p in model.teacher.parameters())


def test_cross_attention_and_topk_variants():
    model = build(decoder=dict(type='CrossAttnReconDecoder', patch_size=8,
                               embed_dims=16, num_heads=2,
                               channels=(8, 8, 8, 8)),
                  topk=dict(type='EasySampleRescue', ratio=0.5,
                            loss_weight=0.5))
    data = model.data_preprocessor(raw_batch(), True)
    losses = model(**data, mode='loss')
    assert set(loss_terms(losses)) == {'loss_cls', 'loss_patch', 'loss_recon',
                           'loss_topk'}
    assert 0 <= float(losses['loss_topk']) <= 2 * 0.5
    losses['loss_topk'].backward()
    assert model.backbone.patch_embed.projection.weight.grad.abs().sum() > 0


def test_topk_targets_are_the_other_views_teacher_outputs(monkeypatch):
    model = build(topk=dict(type='EasySampleRescue', ratio=0.34))
    data = model.data_preprocessor(raw_batch(), True)
    seen = {}
    real_loss = model.head.topk.loss

    def spy(out, target):
        seen['out'], seen['target'] = out, target
        return real_loss(out, target)

    monkeypatch.setattr(model.head.topk, 'loss', spy)
    monkeypatch.setattr(model.head.topk, 'augment', lambda x, pre: x)
    torch.manual_seed(0)
    model(**data, mode='loss')
    views = data['inputs']['views']
    with torch.no_grad():
        s = model.neck.forward_cls(
            model.backbone(torch.cat(views[:2]),
                           mask=None)[:, 0])[:, :K_OUT - D_EQUI]
        t = model.teacher.neck.forward_cls(
            model.teacher.backbone(torch.cat(views[:2]))[:, 0])
    # masks change the student's [CLS]; recompute the ranking with them
    assert seen['out'].shape == (2, K_OUT - D_EQUI)  # k = 1 sample x 2
    i = None
    for cand in range(B):
        if torch.allclose(seen['target'][0], t[B + cand, :K_OUT - D_EQUI],
                          atol=1e-6):
            i = cand
    assert i is not None  # target of view 1 = teacher(view 2) of sample i
    torch.testing.assert_close(seen['target'][1], t[i, :K_OUT - D_EQUI])
    torch.testing.assert_close(seen['out'][0], s[i], rtol=1e-4, atol=1e-5)


def test_configuration_errors():
    with pytest.raises(ValueError, match='loss.out_dim=48'):
        build(loss=dict(type='iBOTLoss', out_dim=64, patch_out_dim=64,
                        num_local=L))
    with pytest.raises(ValueError, match='d_equi=64'):
        build(d_equi=64, loss=dict(type='iBOTLoss', out_dim=1,
                                   patch_out_dim=1, num_local=L))
    with pytest.raises(ValueError, match='in_channels=10'):
        build(decoder=dict(type='ReconDecoder', in_channels=10))
    # K comes from the preprocessor; a head config that disagrees is an error
    with pytest.raises(ValueError, match='head.num_intermediate=3.*'
                       'num_intermediate=2'):
        build(head=dict(type='EquiReconHead', d_equi=D_EQUI,
                        num_intermediate=3))
    model = build()
    data = model.data_preprocessor(raw_batch(), True)
    with pytest.raises(TypeError, match='EquiReconDataPreprocessor'):
        model(inputs=data['inputs']['views'],
              data_samples=data['data_samples'], mode='loss')


@pytest.mark.slow  # 80 optimisation steps of the whole model
def test_learns_to_reconstruct_on_a_fixed_batch():
    model = build()
    model.train()
    data = model.data_preprocessor(raw_batch(), True)
    opt = torch.optim.Adam([p for n, p in model.named_parameters()
                            if p.requires_grad], lr=3e-3)
    first = None
    for _ in range(80):
        loss = model(**data, mode='loss')['loss_recon']
        first = first if first is not None else float(loss)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert float(loss) < 0.6 * first, (first, float(loss))


@pytest.mark.parametrize('given', ['absent', None])
def test_loss_sizes_are_derived_from_the_neck(given):
    loss = dict(type='iBOTLoss', num_local=L)
    if given is None:
        loss.update(out_dim=None, patch_out_dim=None)
    model = build(loss=loss)
    assert (model.ibot_loss.out_dim, model.ibot_loss.patch_out_dim) == (
        K_OUT - D_EQUI, K_OUT - D_EQUI)
    assert model.ibot_loss.center.shape == (1, K_OUT - D_EQUI)
    assert model.ibot_loss.center2.shape == (1, 1, K_OUT - D_EQUI)
    with pytest.raises(ValueError, match=r'loss.patch_out_dim=64 but .*'
                       r'64 - 16 = 48'):
        build(loss=dict(type='iBOTLoss', patch_out_dim=64, num_local=L))


def test_view_index_and_k_come_from_the_preprocessor():
    model = build(data_preprocessor=dict(PRE, view_index=0,
                                         num_intermediate=3))
    assert (model.head.view_index, model.head.num_intermediate) == (0, 3)
    assert len(model.head.decoders) == 3
    data = model.data_preprocessor(raw_batch(), True)
    assert set(loss_terms(model(**data, mode='loss'))) >= {'loss_recon'}
    with pytest.raises(ValueError, match='head.view_index=1 but the data '
                       'preprocessor has view_index=0'):
        build(data_preprocessor=dict(PRE, view_index=0),
              head=dict(type='EquiReconHead', d_equi=D_EQUI, view_index=1))
    with pytest.raises(TypeError, match='EquiReconDataPreprocessor'):
        build(data_preprocessor=dict(type='SelfSupDataPreprocessor'))
