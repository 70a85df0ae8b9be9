"""ReconLoss against a hand computation (explicit loops over k, numpy)."""
import mmequi  # noqa: F401  (compat layer + registries)
import numpy as np
import pytest
import torch
from mmpretrain.registry import MODELS

from mmequi.models.losses.recon_loss import ReconLoss

K, B, C, H, W = 2, 3, 3, 4, 5


def _data(seed=0, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    preds = torch.randn(K, B, C, H, W, generator=g).to(dtype)
    targets = torch.randn(K, B, C, H, W, generator=g).to(dtype)
    return preds, targets


def _reference(preds, targets) -> float:
    """(1/K) Σ_k ||û_k − u_k||² / (B·C·H·W), loops over k, float64 numpy."""
    p = preds.detach().double().numpy()
    t = targets.detach().double().numpy()
    per_k = []
    for k in range(p.shape[0]):
        sq = 0.0
        for b in range(p.shape[1]):
            sq += float(np.sum((p[k, b] - t[k, b])**2))
        per_k.append(sq / p[k].size)
    return sum(per_k) / len(per_k)


def test_matches_hand_computation():
    preds, targets = _data()
    loss = ReconLoss()(preds, targets)
    assert loss.dim() == 0 and loss.dtype == torch.float32
    assert loss.item() == pytest.approx(_reference(preds, targets), rel=1e-6)


def test_unequal_per_decoder_errors_average_over_k():
    # decoder 0 perfect, decoder 1 off by 2 everywhere: L = (0 + 4) / 2
    preds, targets = _data()
    preds = targets.clone()
    preds[1] += 2.0
    assert ReconLoss()(preds, targets).item() == pytest.approx(2.0)


def test_list_tuple_and_tensor_inputs_agree():
    preds, targets = _data(1)
    ref = ReconLoss()(preds, targets)
    for p, t in [(list(preds.unbind(0)), targets),
                 (tuple(preds.unbind(0)), targets),
                 (list(preds.unbind(0)), list(targets.unbind(0)))]:
        assert torch.equal(ReconLoss()(p, t), ref)


def test_loss_weight_and_registry():
    preds, targets = _data(2)
    loss = MODELS.build(dict(type='ReconLoss', loss_weight=0.3))
    assert isinstance(loss, ReconLoss)
    assert loss(preds, targets).item() == pytest.approx(
        0.3 * _reference(preds, targets), rel=1e-6)


def test_gradient_is_scaled_residual():
    preds, targets = _data(3, torch.float64)
    preds.requires_grad_(True)
    ReconLoss(loss_weight=1.5)(preds, targets).backward()
    expected = 1.5 * 2 * (preds.detach() - targets) / preds.numel()
    torch.testing.assert_close(preds.grad, expected)


def test_shape_errors():
    preds, targets = _data()
    loss = ReconLoss()
    with pytest.raises(ValueError, match='does not match'):
        loss(preds, targets[:, :, :, :3])
    with pytest.raises(ValueError, match='does not match'):
        loss(preds, targets[:1])
    with pytest.raises(ValueError, match=r'\(K, B, C, H, W\)'):
        loss(preds[0], targets[0])
    with pytest.raises(ValueError, match='one \\(B, C, H, W\\) shape'):
        loss([preds[0], preds[1, :, :2]], targets)
    with pytest.raises(ValueError, match='non-empty'):
        loss([], targets)


def test_fp32_under_autocast_with_bf16_inputs():
    preds, targets = _data(4, torch.bfloat16)
    ref = _reference(preds, targets)  # exact values of the bf16 inputs
    with torch.autocast(device_type='cpu', dtype=torch.bfloat16):
        loss = ReconLoss()(preds, targets)
        low = (preds - targets).square().mean()  # what bf16 math gives
    assert loss.dtype == torch.float32
    assert loss.item() == pytest.approx(ref, rel=1e-6)
    # the tolerance above is tight enough to catch bf16 arithmetic
    assert low.dtype == torch.bfloat16
    assert abs(low.item() - ref) > 1e-6 * ref
