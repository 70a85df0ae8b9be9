import pytest
import torch
import torch.nn.functional as F

from mmequi.models import iBOTNeck


def _manual(neck, x, last):
    h = x
    for layer in neck.mlp:
        h = layer(h)
    h = h / h.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    w = last.weight_g * last.weight_v / last.weight_v.norm(dim=1,
                                                           keepdim=True)
    return h @ w.t()


def test_matches_hand_computation_and_gelu_mlp():
    torch.manual_seed(0)
    neck = iBOTNeck(in_channels=8, hidden_channels=16,
                    bottleneck_channels=4, out_channels=10)
    neck.init_weights()
    with torch.no_grad():
        neck.last_layer.weight_g.uniform_(0.5, 2.0)
    assert [type(m).__name__ for m in neck.mlp] == [
        'Linear', 'GELU', 'Linear', 'GELU', 'Linear']
    x = torch.randn(5, 8)
    torch.testing.assert_close(neck.forward_cls(x),
                               _manual(neck, x, neck.last_layer))
    torch.testing.assert_close(neck.forward_patch(x), neck.forward_cls(x))
    tokens = torch.randn(2, 4, 8)
    torch.testing.assert_close(neck(tokens), neck.forward_cls(tokens))
    # bottleneck output is L2-normalised before the last layer
    h = F.normalize(neck.mlp(x), dim=-1)
    torch.testing.assert_close(h.norm(dim=-1), torch.ones(5))


def test_separate_patch_head_and_norm_last_layer():
    neck = iBOTNeck(in_channels=8, hidden_channels=16,
                    bottleneck_channels=4, out_channels=10,
                    patch_out_channels=6, shared_head=False,
                    norm_last_layer=True)
    x = torch.randn(3, 8)
    assert neck.forward_cls(x).shape == (3, 10)
    assert neck.forward_patch(x).shape == (3, 6)
    torch.testing.assert_close(neck.forward_patch(x),
                               _manual(neck, x, neck.patch_last_layer))
    assert not neck.last_layer.weight_g.requires_grad
    assert torch.all(neck.last_layer.weight_g == 1)
    assert {'last_layer.weight_g', 'last_layer.weight_v'} <= set(
        neck.state_dict())
    with pytest.raises(ValueError, match='shared_head'):
        iBOTNeck(out_channels=10, patch_out_channels=6, shared_head=True)


def test_prototype_row_slices_are_exact():
    torch.manual_seed(0)
    neck = iBOTNeck(in_channels=8, hidden_channels=16,
                    bottleneck_channels=4, out_channels=10)
    x = torch.randn(2, 5, 8)
    full = neck.forward_patch(x)
    torch.testing.assert_close(neck.forward_patch(x, slice(0, 7)),
                               full[..., :7])
    torch.testing.assert_close(neck.project_patch(neck.embed(x),
                                                  slice(7, None)),
                               full[..., 7:])
    torch.testing.assert_close(neck.forward_cls(x[:, 0], slice(3, 6)),
                               neck.forward_cls(x[:, 0])[:, 3:6])


@pytest.mark.parametrize('shared', [True, False])
def test_project_equals_the_two_last_layers(shared):
    """``project`` (one product on the stacked rows when the head is shared
    and the rows agree) gives each last layer's output and gradients."""
    torch.manual_seed(0)
    neck = iBOTNeck(in_channels=8, hidden_channels=16,
                    bottleneck_channels=4, out_channels=10,
                    patch_out_channels=None if shared else 6,
                    shared_head=shared)
    with torch.no_grad():
        neck.last_layer.weight_g.uniform_(0.5, 2.0)
    h_cls, h_patch = torch.randn(3, 4), torch.randn(5, 4)
    rows = [(None, None), (slice(0, 6), slice(0, 6)),
            (slice(0, 6), slice(2, 5))]
    for cls_rows, patch_rows in rows:
        grads = []
        for fused in (True, False):
            neck.zero_grad()
            if fused:
                c, p = neck.project(h_cls, h_patch, cls_rows, patch_rows)
            else:
                c = _manual_rows(neck.last_layer, h_cls, cls_rows)
                p = _manual_rows(neck.patch_last_layer or neck.last_layer,
                                 h_patch, patch_rows)
            (c.sin().sum() + p.cos().sum()).backward()
            grads.append([c.detach(), p.detach()] + [
                x.grad.clone() for x in neck.parameters()
                if x.grad is not None])
        assert len(grads[0]) == len(grads[1]) > 2
        for a, b in zip(*grads):
            torch.testing.assert_close(a, b)


def _manual_rows(last, h, rows):
    w = last.weight_g * last.weight_v / last.weight_v.norm(dim=1,
                                                           keepdim=True)
    return h @ (w if rows is None else w[rows]).t()
