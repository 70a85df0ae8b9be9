"""Sigmoid focal loss with mmcv's ``sigmoid_focal_loss_forward/backward``
semantics.

Mirrors ``sigmoid_focal_loss_forward_cuda_kernel`` /
``sigmoid_focal_loss_backward_cuda_kernel``
(``mmcv/ops/csrc/common/cuda/sigmoid_focal_loss_cuda_kernel.cuh``; mmcv has
no CPU kernel for it). Element ``(n, c)`` with ``t = target[n]`` and
``p = 1 / (1 + exp(-x))``:

* forward: ``-alpha * (1-p)**gamma * log(max(p, FLT_MIN))`` if ``t == c``,
  else ``-(1-alpha) * p**gamma * log(max(1-p, FLT_MIN))``;
* backward (closed form, d/dx of the above without the clamp):
  ``-alpha * (1-p)**gamma * (1 - p - gamma * p * log(max(p, FLT_MIN)))`` if
  ``t == c``, else
  ``-(1-alpha) * p**gamma * (gamma * (1-p) * log(max(1-p, FLT_MIN)) - p)``;
* both multiplied by ``weight[t]`` when ``weight.numel() > 0``.

``target == num_classes`` (or any value outside ``[0, C)``) means "no
positive class": every column is a negative. With a weight, mmcv would read
``weight[t]`` out of bounds (undefined behaviour); we raise ``ValueError``
instead (this check costs one host sync, only when a weight is given).

``gamma``/``alpha`` are rounded to float32 like mmcv's C++ ``float``
arguments. One intentional difference: mmcv's forward calls ``expf`` (single
precision) even for float64 inputs; we use the input's precision, so
float64 results are more exact than mmcv's (float32 results are identical up
to libm rounding).
"""
from typing import Optional, Tuple

import torch
from torch import Tensor

from ._utils import FLT_MIN, as_c_float


def _prepare(input: Tensor, target: Tensor,
             weight: Tensor) -> Tuple[Tensor, Tensor, Optional[Tensor]]:
    """Checks; returns (p, is_pos, weight_per_row or None)."""
    if input.dim() != 2 or target.dim() != 1 or target.size(0) != input.size(0):
        raise ValueError('sigmoid_focal_loss expects input (N, C) and target '
                         f'(N,), got {tuple(input.shape)} and '
                         f'{tuple(target.shape)}')
    num_classes = input.size(1)
    target = target.long()
    cls = torch.arange(num_classes, device=input.device)  # (C,)
    is_pos = target[:, None] == cls  # (N, C)
    p = 1. / (1. + torch.exp(-input))  # (N, C), same formula as the kernel
    w_row = None
    if weight.numel() > 0:
        if weight.numel() != num_classes:
            raise ValueError(f'weight must have {num_classes} elements, got '
                             f'{weight.numel()}')
        if target.numel() and bool(
                ((target < 0) | (target >= num_classes)).any()):
            raise ValueError(
                'sigmoid_focal_loss with a class weight needs every target in '
                f'[0, {num_classes}); got a background/out-of-range target '
                '(mmcv would read weight[target] out of bounds). Apply the '
                'weight outside the op for background samples.')
        w_row = weight.to(input.dtype).reshape(-1)[target]  # (N,)
    return p, is_pos, w_row


def sigmoid_focal_loss_forward(input: Tensor, target: Tensor, weight: Tensor,
                               output: Tensor, *, gamma: float,
                               alpha: float) -> None:
    """Element-wise sigmoid focal loss; stand-in for
    ``ext_module.sigmoid_focal_loss_forward``.

    Args:
        input: ``(N, C)`` logits.
        target: ``(N,)`` int64 class indices; ``C`` (or anything outside
            ``[0, C)``) = background.
        weight: ``(C,)`` class weights, or an empty tensor for none.
        output: ``(N, C)``, written in place with the unreduced loss.
        gamma, alpha: focal loss parameters.
    """
    if input.numel() == 0:
        return
    gamma, alpha = as_c_float(gamma), as_c_float(alpha)
    p, is_pos, w_row = _prepare(input, target, weight)  # (N, C), (N, C)
    term_p = (1. - p).pow(gamma) * torch.log(p.clamp_min(FLT_MIN))
    term_n = p.pow(gamma) * torch.log((1. - p).clamp_min(FLT_MIN))
    loss = torch.where(is_pos, -alpha * term_p,
                       -(1. - alpha) * term_n)  # (N, C)
    if w_row is not None:
        loss = loss * w_row[:, None]
    output.copy_(loss)


def sigmoid_focal_loss_backward(input: Tensor, target: Tensor, weight: Tensor,
                                grad_input: Tensor, *, gamma: float,
                                alpha: float) -> None:
    """d(loss)/d(input) element-wise; stand-in for
    ``ext_module.sigmoid_focal_loss_backward``.

    Args:
        input, target, weight, gamma, alpha: as in
            :func:`sigmoid_focal_loss_forward`.
        grad_input: ``(N, C)``, written in place (the wrapper then multiplies
            by the upstream gradient and applies the reduction).
    """
    if input.numel() == 0:
        return
    gamma, alpha = as_c_float(gamma), as_c_float(alpha)
    p, is_pos, w_row = _prepare(input, target, weight)  # (N, C), (N, C)
    term_p = (1. - p).pow(gamma) * (
        1. - p - gamma * p * torch.log(p.clamp_min(FLT_MIN)))
    term_n = p.pow(gamma) * (
        gamma * (1. - p) * torch.log((1. - p).clamp_min(FLT_MIN)) - p)
    grad = torch.where(is_pos, -alpha * term_p,
                       -(1. - alpha) * term_n)  # (N, C)
    if w_row is not None:
        grad = grad * w_row[:, None]
    grad_input.copy_(grad)
