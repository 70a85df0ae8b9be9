"""SeparateHeadsNeck: two independent iBOTNeck heads behind iBOT's neck
interface (DINOv2's separate DINO / iBOT heads)."""
import mmequi  # noqa: F401  (registries)
import pytest
import torch
from mmpretrain.registry import MODELS

HEAD = dict(type='iBOTNeck', in_channels=8, hidden_channels=16,
            bottleneck_channels=4, out_channels=12, patch_out_channels=10,
            shared_head=False)


def _neck():
    torch.manual_seed(0)
    neck = MODELS.build(dict(type='SeparateHeadsNeck', head=HEAD))
    neck.init_weights()
    return neck


def test_two_independent_heads_with_their_widths():
    neck = _neck()
    assert (neck.out_channels, neck.patch_out_channels) == (12, 10)
    assert neck.cls_head.last_layer.weight_v.shape == (12, 4)
    assert neck.patch_head.last_layer.weight_v.shape == (10, 4)
    # each head has one last layer and its own MLP
    assert neck.cls_head.patch_last_layer is None
    assert neck.patch_head.patch_last_layer is None
    assert not torch.equal(neck.cls_head.mlp[0].weight,
                           neck.patch_head.mlp[0].weight)


def test_interface_equals_the_per_head_computation():
    neck = _neck()
    tokens = torch.randn(3, 1 + 5, 8)
    h_cls, h_patch = neck.embed_all(tokens)  # (3, 4), (3, 5, 4)
    torch.testing.assert_close(h_cls, neck.cls_head.embed(tokens[:, 0]))
    torch.testing.assert_close(h_patch, neck.patch_head.embed(tokens[:, 1:]))
    c, p = neck.embed_tokens(tokens[:, 0], tokens[:, 1:].flatten(0, 1))
    torch.testing.assert_close(p.view(3, 5, 4), h_patch)
    rows = slice(0, 7)
    logits_c, logits_p = neck.project(c, p, rows, rows)
    torch.testing.assert_close(logits_c,
                               neck.cls_head.forward_cls(tokens[:, 0])[:, :7])
    torch.testing.assert_close(
        logits_p, neck.patch_head.forward_cls(tokens[:, 1:]).flatten(0, 1)
        [:, :7])
    torch.testing.assert_close(neck.forward_patch(tokens[:, 1:]),
                               neck.project_patch(h_patch))
    assert neck.forward_cls(tokens[:, 0]).shape == (3, 12)
    with pytest.raises(ValueError, match='widths'):
        neck(tokens)  # 12 [CLS] vs 10 patch prototypes


def test_needs_an_ibot_neck_config():
    with pytest.raises(ValueError, match='iBOTNeck'):
        MODELS.build(dict(type='SeparateHeadsNeck',
                          head=dict(type='MLPNeck')))
