"""The one θ sampler: uniform draws in per-dimension ranges.

Every place that draws transformation parameters (the equi-recon data
preprocessor's ``θ``, the synthetic-probe preprocessor's per-sample ``θ``,
the strong augmentation of the easy-sample rescue, the batched multi-crop)
maps uniforms ``u`` in ``[0, 1)`` to ``θ = low + (high - low) * u`` with
:func:`scale_unit`; the torch callers draw ``u`` with :func:`sample_uniform`
(torch's generator, on a given device).

The arithmetic is done in the operands' own types (a float32 tensor
``low`` gives float32 ``θ``, a float64 numpy ``low`` float64, a Python
float is combined as PyTorch combines scalars), so each caller keeps the
precision and rounding it chose.
"""
from typing import Optional, Sequence, TypeVar, Union

import numpy as np
import torch

__all__ = ['scale_unit', 'sample_uniform']

Bound = Union[float, np.ndarray, torch.Tensor]
Unit = TypeVar('Unit', np.ndarray, torch.Tensor)


def scale_unit(u: Unit, low: Bound, high: Bound) -> Unit:
    """``low + (high - low) * u``: uniforms ``u`` in ``[0, 1)`` (any shape
    ``(..., dim)``, numpy array or tensor) to values in ``[low, high)``,
    ``low`` / ``high`` scalars or ``(dim,)`` per-dimension bounds
    (broadcast along the last dimension)."""
    return low + (high - low) * u


def sample_uniform(shape: Sequence[int], low: Bound, high: Bound, *,
                   device: Union[str, torch.device, None] = None,
                   generator: Optional[torch.Generator] = None
                   ) -> torch.Tensor:
    """Draw ``torch.rand(shape)`` on ``device`` with ``generator`` (None:
    torch's global generator of that device) and map it with
    :func:`scale_unit`.

    Args:
        shape: output shape, e.g. ``(B, dim)``.
        low, high: Python floats, or tensors broadcastable to ``shape``
            along its last dimension (e.g. ``(dim,)``) on ``device``.
        device: where to draw (None: the default device).
        generator: a ``torch.Generator`` of that device, or None.

    Returns:
        a float tensor of ``shape`` (float32 for float32 / Python bounds).
    """
    u = torch.rand(tuple(shape), device=device, generator=generator)
    return scale_unit(u, low, high)
