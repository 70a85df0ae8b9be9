import pytest
import torch
from mmpretrain.models import VisionTransformer

from mmequi.models import iBOTViT

TINY = dict(embed_dims=48, num_layers=2, num_heads=3, feedforward_channels=96)


def _vit(**kw):
    torch.manual_seed(0)
    m = iBOTViT(arch=dict(TINY), img_size=32, patch_size=8, **kw)
    m.init_weights()
    return m.eval()


def test_vit_small_is_deit_small():
    m = iBOTViT(arch='deit-small')
    assert (m.embed_dims, m.num_layers, m.layers[0].attn.num_heads) == (
        384, 12, 6)


def test_same_keys_and_output_as_plain_vit():
    m = _vit()
    ref = VisionTransformer(arch=dict(TINY), img_size=32, patch_size=8,
                            out_type='raw')
    ref.eval()
    state = {k: v for k, v in m.state_dict().items() if k != 'mask_token'}
    missing, unexpected = ref.load_state_dict(state, strict=True), None
    assert unexpected is None and not missing.missing_keys
    assert set(m.state_dict()) - set(ref.state_dict()) == {'mask_token'}
    x = torch.randn(2, 3, 32, 32)
    torch.testing.assert_close(m(x), ref(x)[0])  # (B, 1 + 16, 48)
    assert m(x).shape == (2, 17, 48)


def test_masked_patches_do_not_see_the_image():
    """Images that differ only inside masked patches give equal outputs,
    and the mask token (not the image) fills them."""
    m = _vit()
    with torch.no_grad():
        m.mask_token.normal_()
    x1 = torch.randn(1, 3, 32, 32)
    x2 = x1.clone()
    mask = torch.zeros(1, 4, 4, dtype=torch.bool)
    mask[0, 1, 2] = mask[0, 3, 0] = True
    x2[..., 8:16, 16:24] += 5  # patch (1, 2)
    x2[..., 24:32, 0:8] -= 3  # patch (3, 0)
    torch.testing.assert_close(m(x1, mask=mask), m(x2, mask=mask))
    assert not torch.allclose(m(x1), m(x2))
    # changing the mask token changes the output of masked inputs only
    y_masked, y_plain = m(x1, mask=mask), m(x1)
    with torch.no_grad():
        # (a constant shift would be invisible: every LayerNorm removes it)
        m.mask_token.add_(torch.randn_like(m.mask_token))
    assert not torch.allclose(m(x1, mask=mask), y_masked)
    torch.testing.assert_close(m(x1), y_plain)


def test_local_crop_resolution_and_mask_shape_errors():
    m = _vit()
    assert m(torch.randn(3, 3, 16, 16)).shape == (3, 5, 48)
    with pytest.raises(ValueError, match='patches'):
        m(torch.randn(1, 3, 32, 32), mask=torch.zeros(1, 9, dtype=torch.bool))
    with pytest.raises(ValueError, match='out_type'):
        iBOTViT(arch=dict(TINY), out_type='cls_token')


def test_official_init():
    m = _vit()
    w = torch.cat([mod.weight.flatten() for mod in m.modules()
                   if isinstance(mod, torch.nn.Linear)])
    assert abs(w.std().item() - 0.02) < 0.003  # trunc_normal(std=0.02)
    assert torch.count_nonzero(m.mask_token) == 0
    assert all(torch.count_nonzero(mod.bias) == 0 for mod in m.modules()
               if isinstance(mod, torch.nn.Linear))


def test_with_cp_gives_the_same_loss_and_gradients():
    """Activation checkpointing (speed/memory switch): in training, with
    drop path and a mask, the output and every parameter gradient equal
    the plain path's; the backward really recomputes the layers."""
    x = torch.randn(3, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    mask = torch.rand(3, 16, generator=torch.Generator().manual_seed(2)) > .5
    runs = {}
    for with_cp in (False, True):
        m = _vit(with_cp=with_cp, drop_path_rate=0.3).train()
        calls = []
        m.layers[0].register_forward_pre_hook(lambda *_: calls.append(1))
        torch.manual_seed(3)  # the same drop-path draws in both runs
        out = m(x, mask=mask)
        loss = out.square().mean()
        loss.backward()
        runs[with_cp] = (loss.detach(), {n: p.grad.clone() for n, p in
                                         m.named_parameters()
                                         if p.grad is not None}, len(calls))
    (l0, g0, c0), (l1, g1, c1) = runs[False], runs[True]
    assert (c0, c1) == (1, 2)  # forward, and its recomputation
    torch.testing.assert_close(l1, l0, rtol=0, atol=0)
    assert g1.keys() == g0.keys() and len(g0) > 10
    for n in g0:
        torch.testing.assert_close(g1[n], g0[n], rtol=0, atol=0, msg=n)


def test_with_cp_is_off_in_eval_and_without_grad():
    m = _vit(with_cp=True)
    calls = []
    m.layers[0].register_forward_pre_hook(lambda *_: calls.append(1))
    x = torch.randn(2, 3, 32, 32)
    m.eval()(x).sum().backward()  # eval: no checkpoint, one call
    with torch.no_grad():
        m.train()(x)
    assert len(calls) == 2


def _grads(m, out, weight):
    """Parameter gradients of ``(out * weight).sum()`` (a loss whose
    gradient does not vanish through the final LayerNorm)."""
    params = [p for p in m.parameters() if p.requires_grad]
    return torch.autograd.grad((out * weight).sum(), params,
                               allow_unused=True)


@pytest.mark.parametrize('with_cp', [False, True])
def test_cls_only_equals_the_full_forward(with_cp):
    """``cls_only=True`` (last layer for [CLS] only) gives the full
    forward's [CLS] output and the same gradients: exact maths (float64,
    near machine precision), and within fp32 rounding; in training with
    drop path (the same draws) and a mask."""
    g = torch.Generator().manual_seed(1)
    x = torch.randn(3, 3, 32, 32, generator=g)
    mask = torch.rand(3, 16, generator=g) > .5
    weight = torch.randn(3, 1, 48, generator=g)
    for dtype, tol in ((torch.float64, dict(rtol=1e-10, atol=1e-12)),
                       (torch.float32, dict(rtol=1e-4, atol=1e-6))):
        m = _vit(with_cp=with_cp, drop_path_rate=0.3).train().to(dtype)
        runs = []
        for cls_only in (False, True):
            torch.manual_seed(3)
            out = m(x.to(dtype), mask=mask, cls_only=cls_only)
            out = out if cls_only else out[:, :1]
            runs.append((out, _grads(m, out, weight.to(dtype))))
        (full, g_full), (cls, g_cls) = runs
        assert cls.shape == (3, 1, 48)
        torch.testing.assert_close(cls, full, **tol)
        n = 0
        for a, b in zip(g_cls, g_full):
            assert (a is None) == (b is None)
            if a is not None:
                scale = b.abs().max().clamp(min=1e-12)
                torch.testing.assert_close(a / scale, b / scale, **tol)
                n += 1
        assert n > 10


def test_cls_only_computes_the_last_layer_on_one_row():
    """The last layer's projection and MLP see one token per image; the
    keys/values still come from all of them (changing a patch changes
    the [CLS] output)."""
    m = _vit()
    rows = []
    last = m.layers[-1]
    for mod in (last.attn.proj, last.ffn):
        mod.register_forward_hook(
            lambda mod, a, out: rows.append(tuple(a[0].shape[:2])))
    x = torch.randn(2, 3, 32, 32)
    y = m(x, cls_only=True)
    assert rows == [(2, 1), (2, 1)]
    x2 = x.clone()
    x2[..., :8, :8] += 1  # one patch
    assert not torch.allclose(m(x2, cls_only=True), y)


def test_attention_impls_agree():
    """``attn_impl`` 'sdpa' / 'matmul' / 'auto': the same outputs and
    gradients within fp32 rounding, and within bf16 rounding under bf16
    autocast; 'auto' picks matmul for CPU tensors only."""
    g = torch.Generator().manual_seed(4)
    x = torch.randn(2, 3, 32, 32, generator=g)
    weight = torch.randn(2, 17, 48, generator=g)
    for autocast, tol in ((False, dict(rtol=1e-5, atol=1e-6)),
                          (True, dict(rtol=2e-2, atol=2e-2))):
        runs = {}
        for impl in ('sdpa', 'matmul', 'auto'):
            m = _vit(attn_impl=impl, drop_path_rate=0.0).train()
            with torch.autocast('cpu', dtype=torch.bfloat16,
                                enabled=autocast):
                out = m(x)
            runs[impl] = (out.float(), _grads(m, out.float(), weight))
        for impl in ('matmul', 'auto'):
            torch.testing.assert_close(runs[impl][0], runs['sdpa'][0], **tol)
            for a, b in zip(runs[impl][1], runs['sdpa'][1]):
                if b is not None:
                    scale = b.abs().max().clamp(min=1e-12)
                    torch.testing.assert_close(a / scale, b / scale, **tol)
        # auto is matmul on CPU: bit-identical
        for a, b in zip(runs['auto'][1], runs['matmul'][1]):
            if b is not None:
                torch.testing.assert_close(a, b, rtol=0, atol=0)
    attn = _vit().layers[0].attn.scaled_dot_product_attention
    assert attn.uses_matmul(torch.device('cpu'))
    assert not attn.uses_matmul(torch.device('cuda', 0))
    assert not attn.uses_matmul(torch.device('meta'))


def test_matmul_attention_is_softmax_attention():
    """Independent of torch's kernels: the defining formula, per head."""
    from mmequi.models.backbones.ibot_vit import matmul_attention
    g = torch.Generator().manual_seed(5)
    q, k, v = (torch.randn(2, 3, n, 8, generator=g, dtype=torch.float64)
               for n in (4, 6, 6))
    out = matmul_attention(q, k, v)
    for b in range(2):
        for h in range(3):
            w = torch.exp(q[b, h] @ k[b, h].T / 8 ** 0.5)
            ref = (w / w.sum(1, keepdim=True)) @ v[b, h]
            torch.testing.assert_close(out[b, h], ref)


def test_attention_impl_errors():
    with pytest.raises(ValueError, match="attn_impl='flash'"):
        _vit(attn_impl='flash')
    from mmpretrain.models.backbones.vision_transformer import \
        TransformerEncoderLayer
    from mmpretrain.models.utils.attention import \
        scaled_dot_product_attention_pyimpl

    from mmequi.models.backbones.ibot_vit import set_attention
    layers = torch.nn.ModuleList([TransformerEncoderLayer(16, 2, 32)
                                  for _ in range(2)])
    # a layer with a custom attention function (e.g. qk_scale) is refused
    # rather than silently replaced
    layers[1].attn.scaled_dot_product_attention = \
        scaled_dot_product_attention_pyimpl
    with pytest.raises(ValueError, match='layer 1: .*qk_scale'):
        set_attention(layers, 'auto')


# ------------------------------------------------------- register tokens
def _manual_forward(m, x, mask=None):
    """Independent forward of an iBOTViT with registers: embed, add the
    position embedding to [CLS] + patches, insert the registers after
    [CLS], run the layers and the final norm, drop the registers."""
    tokens, _ = m.patch_embed(x)
    if mask is not None:
        w = mask.flatten(1).unsqueeze(-1).float()
        tokens = tokens * (1 - w) + m.mask_token * w
    tokens = torch.cat([m.cls_token.expand(len(x), -1, -1), tokens], 1)
    tokens = tokens + m.pos_embed
    R = m.num_register_tokens
    tokens = torch.cat([tokens[:, :1],
                        m.register_tokens.expand(len(x), -1, -1),
                        tokens[:, 1:]], 1)
    for layer in m.layers:
        tokens = layer(tokens)
    tokens = m.ln1(tokens)
    return torch.cat([tokens[:, :1], tokens[:, 1 + R:]], 1)


def test_no_registers_by_default():
    m = _vit()
    assert m.num_register_tokens == 0 and m.register_tokens is None
    assert not any('register' in k for k in m.state_dict())


def test_registers_are_dropped_and_act_through_attention_only():
    m = _vit(num_register_tokens=4)
    assert m.register_tokens.shape == (1, 4, 48)
    assert m.register_tokens.abs().sum() > 0  # trunc-normal init
    x = torch.randn(2, 3, 32, 32)
    mask = torch.zeros(2, 16, dtype=torch.bool)
    mask[0, 3] = mask[1, 7] = True
    with torch.no_grad():
        m.mask_token.normal_()
        out, out_masked = m(x), m(x, mask=mask)
        assert out.shape == (2, 17, 48)  # N patch tokens, registers gone
        torch.testing.assert_close(out, _manual_forward(m, x))
        torch.testing.assert_close(out_masked, _manual_forward(m, x, mask))
        # cls_only computes the same [CLS]
        torch.testing.assert_close(m(x, cls_only=True), out[:, :1],
                                   rtol=1e-5, atol=1e-5)
        # other registers change every output token (through attention)
        m.register_tokens.add_(torch.randn_like(m.register_tokens))
        assert ((m(x) - out).abs().amax(-1) > 1e-4).all()
        # with no layers (no attention) the registers cannot matter
        plain = _vit(num_register_tokens=0)
        reg = _vit(num_register_tokens=3)
        for net in (plain, reg):
            net.layers = torch.nn.ModuleList()
        reg.load_state_dict(plain.state_dict(), strict=False)
        torch.testing.assert_close(reg(x), plain(x))


def test_registers_with_local_crop_resolution():
    """A 16-px crop (interpolated position embedding) gives its 4 patch
    tokens; the registers get no position embedding to resize."""
    m = _vit(num_register_tokens=2)
    with torch.no_grad():
        y = m(torch.randn(3, 3, 16, 16))
        assert y.shape == (3, 5, 48)
        y1 = m(torch.randn(3, 3, 16, 16), cls_only=True)
    assert y1.shape == (3, 1, 48)


def test_register_checkpoint_is_not_exported_to_the_plain_vit():
    from mmequi.models.utils.vit_convert import extract_backbone
    m = _vit(num_register_tokens=2)
    sd = {f'teacher.backbone.{k}': v for k, v in m.state_dict().items()}
    with pytest.raises(ValueError, match='register tokens'):
        extract_backbone(dict(state_dict=sd), 'teacher')
    plain = {f'teacher.backbone.{k}': v
             for k, v in _vit().state_dict().items()}
    out, info = extract_backbone(dict(state_dict=plain), 'teacher')
    assert 'mask_token' in info['dropped_keys'] and 'pos_embed' in out


def test_negative_register_count_is_an_error():
    with pytest.raises(ValueError, match='num_register_tokens'):
        _vit(num_register_tokens=-1)


def _drop_probs(vit):
    """Per block, the drop probabilities of its DropPath modules."""
    from mmcv.cnn.bricks.drop import DropPath
    return [sorted({m.drop_prob for m in layer.modules()
                    if isinstance(m, DropPath)}) for layer in vit.layers]


def test_drop_path_uniform_or_linear_ramp():
    arch = dict(embed_dims=32, num_layers=4, num_heads=2,
                feedforward_channels=64)
    ramp = iBOTViT(arch=arch, img_size=32, drop_path_rate=0.3)
    assert _drop_probs(ramp) == [[pytest.approx(0.3 * i / 3)]
                                 for i in range(4)]
    uniform = iBOTViT(arch=arch, img_size=32, drop_path_rate=0.3,
                      drop_path_uniform=True)
    assert _drop_probs(uniform) == [[pytest.approx(0.3)]] * 4
    assert uniform.state_dict().keys() == ramp.state_dict().keys()
    with pytest.raises(ValueError, match='drop_path_uniform'):
        iBOTViT(arch=arch, img_size=32, drop_path_uniform=True,
                layer_cfgs=dict(drop_path_rate=0.1))
