"""ViTLinearFeatures: the DINO/iBOT linear-probe feature, checked against the
blocks run by hand (patch embedding, [CLS], position embedding, each block,
the final norm applied to every selected block)."""
import pytest
import torch
from mmpretrain.models import VisionTransformer
from mmpretrain.registry import MODELS

import mmequi  # noqa: F401  (registers ViTLinearFeatures)

TINY = dict(embed_dims=32, num_layers=4, num_heads=2,
            feedforward_channels=64)


def _randomise(model: torch.nn.Module, seed: int = 0) -> None:
    """Random values everywhere (non-trivial norm weights included)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.3 +
                    (1.0 if p.ndim == 1 and p.shape[0] == 32 else 0.0))


def _by_hand(vit, x):
    """Token sequences after every block, computed step by step."""
    tokens, _ = vit.patch_embed(x)
    tokens = torch.cat([vit.cls_token.expand(x.shape[0], -1, -1), tokens], 1)
    tokens = tokens + vit.pos_embed
    seqs = []
    for layer in vit.layers:
        tokens = layer(tokens)
        seqs.append(tokens)
    return seqs


def _build(**kwargs):
    cfg = dict(type='ViTLinearFeatures', arch=TINY, img_size=32,
               patch_size=8, **kwargs)
    model = MODELS.build(cfg)
    _randomise(model)
    return model.eval()


def test_last4_cls_each_normalised():
    model = _build(out_indices=(0, 1, 2, 3))
    x = torch.randn(3, 3, 32, 32)
    with torch.no_grad():
        (feat, ) = model(x)
        seqs = _by_hand(model, x)
        norm = model.ln1
        expected = torch.cat([
            torch.nn.functional.layer_norm(s, (32, ), norm.weight, norm.bias,
                                           norm.eps)[:, 0] for s in seqs
        ], dim=1)
    assert feat.shape == (3, 4 * 32) and model.feat_dim == 128
    torch.testing.assert_close(feat, expected, rtol=1e-5, atol=1e-5)
    # the norm matters: un-normalised [CLS] tokens differ
    raw = torch.cat([s[:, 0] for s in seqs], dim=1)
    assert not torch.allclose(feat, raw, atol=1e-2)


def test_negative_indices_and_avgpool():
    model = _build(out_indices=(-1, ), avgpool_patch_tokens=True)
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        (feat, ) = model(x)
        last = model.ln1(_by_hand(model, x)[-1])
    expected = torch.cat([last[:, 0], last[:, 1:].mean(1)], dim=1)
    assert model.feat_dim == 64
    torch.testing.assert_close(feat, expected, rtol=1e-5, atol=1e-5)


def test_same_keys_as_vision_transformer():
    ours = _build(out_indices=(2, 3))
    ref = VisionTransformer(arch=TINY, img_size=32, patch_size=8)
    assert ours.state_dict().keys() == ref.state_dict().keys()
    ref.load_state_dict(ours.state_dict(), strict=True)
    # and the last selected block's [CLS] equals mmpretrain's own output
    x = torch.randn(2, 3, 32, 32)
    ref.eval()  # (mmpretrain's train() returns None)
    with torch.no_grad():
        (feat, ) = ours(x)
        (cls, ) = ref(x)
    torch.testing.assert_close(feat[:, 32:], cls)


def test_frozen_stays_frozen_and_in_eval_mode():
    model = _build(out_indices=(2, 3), frozen_stages=4, drop_path_rate=0.1)
    model.train()
    assert not any(p.requires_grad for p in model.parameters())
    assert not any(m.training for layer in model.layers
                   for m in layer.modules())
    assert not model.ln1.training
    x = torch.randn(2, 3, 32, 32)
    (a, ), (b, ) = model(x), model(x)  # drop path off: deterministic
    torch.testing.assert_close(a, b)
    assert not a.requires_grad


@pytest.mark.parametrize('kwargs,match', [
    (dict(out_type='featmap'), 'out_type'),
    (dict(final_norm=False), 'final_norm'),
    (dict(out_indices=(3, -1)), 'repeated'),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MODELS.build(dict(type='ViTLinearFeatures', arch=TINY, img_size=32,
                          patch_size=8, **kwargs))
