"""HypernetPredictor: ẑ'_i = W(g_i) z_i (+ b(g_i)) against a naive
per-sample loop that evaluates the hypernetwork MLP by hand."""
import mmequi  # noqa: F401  (registries)
import pytest
import torch
import torch.nn as nn
from mmpretrain.registry import MODELS

from mmequi.models.heads import HypernetPredictor

B, K, D = 5, 4, 3


def _naive(pred, z, g):
    """Loop over samples; the MLP by hand from its Linear layers (ReLU in
    between), W(g) = the first d·d outputs read row-major."""
    linears = [m for m in pred.hypernet.modules() if isinstance(m, nn.Linear)]
    d = pred.embed_dims
    outs = []
    for i in range(z.shape[0]):
        h = g[i].double()
        for j, lin in enumerate(linears):
            h = lin.weight.double() @ h + lin.bias.double()
            if j < len(linears) - 1:
                h = torch.relu(h)
        w = torch.empty(d, d, dtype=torch.float64)
        for r in range(d):
            for c in range(d):
                w[r, c] = h[r * d + c]
        out = w @ z[i].double()
        if pred.bias:
            out = out + h[d * d:]
        outs.append(out)
    return torch.stack(outs)


@pytest.mark.parametrize('num_layers,bias', [(1, False), (2, False),
                                             (3, True)])
def test_matches_per_sample_loop(num_layers, bias):
    torch.manual_seed(0)
    pred = MODELS.build(dict(type='HypernetPredictor', group_dims=K,
                             embed_dims=D, hidden_channels=7,
                             num_layers=num_layers, bias=bias))
    assert isinstance(pred, HypernetPredictor)
    z, g = torch.randn(B, D), torch.randn(B, K)
    out = pred(z, g)
    assert out.shape == (B, D) and out.dtype == torch.float32
    torch.testing.assert_close(out.double(), _naive(pred, z, g),
                               rtol=1e-5, atol=1e-6)
    w, b = pred.weights(g)
    assert w.shape == (B, D, D)
    assert (b is None) == (not bias)
    if bias:
        assert b.shape == (B, D)


def test_linear_hypernet_is_affine_in_g():
    """num_layers=1: W(g) = A g + c, so W(g1) + W(g2) - W(0) = W(g1 + g2)."""
    torch.manual_seed(1)
    pred = HypernetPredictor(K, D, num_layers=1)
    g1, g2 = torch.randn(1, K), torch.randn(1, K)
    w = lambda g: pred.weights(g)[0]  # noqa: E731
    torch.testing.assert_close(w(g1) + w(g2) - w(torch.zeros(1, K)),
                               w(g1 + g2), rtol=1e-5, atol=1e-6)


def test_gradient_reaches_hypernetwork_and_embedding():
    torch.manual_seed(2)
    pred = HypernetPredictor(K, D, hidden_channels=8, num_layers=2)
    z = torch.randn(B, D, requires_grad=True)
    g = torch.randn(B, K)
    pred(z, g).square().sum().backward()
    for name, p in pred.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name
    assert z.grad.abs().sum() > 0


def test_each_sample_uses_its_own_g():
    torch.manual_seed(3)
    pred = HypernetPredictor(K, D, hidden_channels=8)
    z = torch.randn(1, D).expand(B, D)
    g = torch.randn(B, K)
    out = pred(z, g)
    assert not torch.allclose(out[0], out[1])
    torch.testing.assert_close(out[2:3], pred(z[2:3], g[2:3]))


def test_errors():
    pred = HypernetPredictor(K, D)
    with pytest.raises(ValueError, match='embed_dims=3'):
        pred(torch.zeros(B, D + 1), torch.zeros(B, K))
    with pytest.raises(ValueError, match='group_dims=4'):
        pred(torch.zeros(B, D), torch.zeros(B, K + 2))
    with pytest.raises(ValueError, match='one batch size'):
        pred(torch.zeros(B, D), torch.zeros(B - 1, K))
    with pytest.raises(ValueError, match='group_dims'):
        HypernetPredictor(0, D)
