"""Small heads fitted on fixed features: a linear classifier and ridge R².

Pure functions from cached ``(N, D)`` features and labels / targets to
scores; they hold no model, runner or hook state. Used by
:class:`~mmequi.engine.hooks.OnlineProbeHook` (linear top-k on the
probe-val set, ridge R² of the transformation parameter θ); they sit next
to the metrics they report (:func:`~mmequi.evaluation.metrics.knn.
topk_accuracy`, :func:`~mmequi.evaluation.metrics.equivariance_r2.r2_sie`)
rather than in the hook, so that a benchmark or a notebook can fit the same
heads without importing the engine.
"""
from typing import Dict, Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.registry import OPTIMIZERS

from ...utils.labels import check_class_labels
from ..metrics.equivariance_r2 import r2_sie
from ..metrics.knn import topk_accuracy

__all__ = ['fit_linear_probe', 'ridge_r2']


def fit_linear_probe(train_x: torch.Tensor, train_y: torch.Tensor,
                     val_x: torch.Tensor, val_y: torch.Tensor,
                     num_classes: int, epochs: int = 100,
                     batch_size: int = 256,
                     optimizer: Optional[dict] = None, seed: int = 0,
                     topk: Sequence[int] = (1, 5)) -> Dict[int, float]:
    """Train a linear classifier on fixed features, return its top-m
    accuracies (percent) on the validation features.

    Features ``(N, D)`` are standardised with the training mean / std (as
    MAE's BatchNorm-without-affine before the linear probe); the layer
    starts at zero (the problem is convex); mini-batches are drawn with a
    private generator seeded by ``seed``; ``optimizer`` is an mmengine
    optimiser config without ``params`` (default ``AdamW(lr=1e-3,
    weight_decay=1e-4)``). The global random state is not used.
    """
    if epochs < 1 or batch_size < 1:
        raise ValueError(f'epochs={epochs} and batch_size={batch_size} must '
                         'be >= 1')
    for split, y in (('train', train_y), ('val', val_y)):
        check_class_labels(y, num_classes,
                           f'fit_linear_probe ({split} labels)',
                           'num_classes')
    mean = train_x.mean(0, keepdim=True)
    std = train_x.std(0, keepdim=True).nan_to_num(1.0).clamp_min(1e-6)
    xt, xv = (train_x - mean) / std, (val_x - mean) / std
    # skip_init: nn.Linear's own init would draw from the global generator
    head = torch.nn.utils.skip_init(nn.Linear, xt.shape[1], num_classes,
                                    device=xt.device)
    nn.init.zeros_(head.weight)
    nn.init.zeros_(head.bias)
    cfg = dict(optimizer or dict(type='AdamW', lr=1e-3, weight_decay=1e-4))
    if 'params' in cfg:
        raise KeyError('linear.optimizer must not set params')
    optim = OPTIMIZERS.build(dict(cfg, params=head.parameters()))
    gen = torch.Generator().manual_seed(int(seed))
    labels = train_y.to(xt.device).long()
    with torch.enable_grad():
        for _ in range(int(epochs)):
            order = torch.randperm(xt.shape[0], generator=gen).to(xt.device)
            for start in range(0, xt.shape[0], batch_size):
                rows = order[start:start + batch_size]
                loss = F.cross_entropy(head(xt[rows]), labels[rows])
                optim.zero_grad()
                loss.backward()
                optim.step()
    with torch.no_grad():
        logits = head(xv)
    return topk_accuracy(logits, val_y.to(logits.device), topk)


def ridge_r2(train_x: torch.Tensor, train_y: torch.Tensor,
             val_x: torch.Tensor, val_y: torch.Tensor,
             alpha: float = 1.0) -> float:
    """Closed-form ridge regression ``y ≈ x w + b`` on standardised
    features, fitted on (train_x (N, D), train_y (N, K)); ``r2_sie`` of its
    predictions on the validation pair. Solved in float64:
    ``w = (XᵀX + alpha I)⁻¹ Xᵀ (y - ȳ)``."""
    if not alpha > 0:
        raise ValueError(f'alpha must be > 0, got {alpha}')
    x = train_x.double()
    mean = x.mean(0, keepdim=True)
    std = x.std(0, keepdim=True).nan_to_num(1.0).clamp_min(1e-6)
    x = (x - mean) / std
    y = train_y.double().reshape(x.shape[0], -1)
    y_mean = y.mean(0, keepdim=True)
    gram = x.t() @ x + alpha * torch.eye(x.shape[1], dtype=x.dtype,
                                         device=x.device)
    w = torch.linalg.solve(gram, x.t() @ (y - y_mean))
    pred = ((val_x.double() - mean) / std) @ w + y_mean
    target = val_y.double().reshape(pred.shape)
    return float(r2_sie(target.cpu().numpy(), pred.cpu().numpy()))
