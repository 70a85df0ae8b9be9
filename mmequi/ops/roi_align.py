"""RoIAlign (average pooling) with mmcv's ``roi_align_forward/backward``
semantics, on top of torchvision's RoIAlign kernels (CPU and CUDA).

Mirrors ``roi_align_forward_cuda_kernel`` / ``roi_align_backward_cuda_kernel``
(``mmcv/ops/csrc/common/cuda/roi_align_cuda_kernel.cuh``) and ``ROIAlignForward``
(``csrc/pytorch/cpu/roi_align.cpp``) for ``pool_mode=1`` (avg). Both mmcv and
torchvision carry Detectron2's kernel, and they agree term by term:

* roi corners ``x * spatial_scale - (0.5 if aligned else 0)``; with
  ``aligned=False`` the roi size is clamped to at least 1;
* ``bin = roi_size / pooled_size``; ``grid = sampling_ratio`` if ``> 0``
  else ``ceil(roi_size / pooled_size)``; sample points at
  ``start + p * bin + (i + 0.5) * bin / grid``;
* bilinear interpolation returns 0 for ``y < -1 or y > H`` (same for ``x``),
  clamps ``y <= 0`` to 0 and snaps the high corner to ``H - 1``;
* the average divides by ``max(grid_h * grid_w, 1)``; the backward
  scatters ``grad * w_k / count`` to the four corners.

The only adaptation: mmcv receives ``spatial_scale`` as a C++ ``float``;
torchvision takes a ``double``. We round it to float32 first so float64
inputs see the same scale as in mmcv (float32 inputs are unaffected).

``pool_mode=0`` (max) has no torchvision counterpart and raises
:class:`mmequi.ops.errors.MMCVOpUnavailableError`.
"""
import torch
import torchvision  # noqa: F401  (registers torch.ops.torchvision)
from torch import Tensor

from ._utils import as_c_float
from .errors import HOW_TO_GET_MMCV, MMCVOpUnavailableError


def _check_pool_mode(pool_mode: int) -> None:
    if pool_mode == 1:
        return
    if pool_mode == 0:
        raise MMCVOpUnavailableError(
            "RoIAlign(pool_mode='max') needs compiled mmcv (mmcv._ext); "
            "mmequi's torchvision backend implements only "
            f"RoIAlign(pool_mode='avg'). {HOW_TO_GET_MMCV}")
    raise ValueError(f'pool_mode must be 0 (max) or 1 (avg), got {pool_mode}')


def _kernel_dtype(dtype: torch.dtype) -> torch.dtype:
    """torchvision's roi_align kernels have no bfloat16 version (CPU, seen
    with torchvision 0.29): compute those in float32 and cast back (mmcv's
    CUDA kernels accumulate in float too)."""
    return torch.float32 if dtype == torch.bfloat16 else dtype


def roi_align_forward(input: Tensor, rois: Tensor, output: Tensor,
                      argmax_y: Tensor, argmax_x: Tensor, *,
                      aligned_height: int, aligned_width: int,
                      spatial_scale: float, sampling_ratio: int,
                      pool_mode: int, aligned: bool) -> None:
    """RoIAlign forward; stand-in for mmcv's ``ext_module.roi_align_forward``.

    Args:
        input: ``(N, C, H, W)`` feature map.
        rois: ``(R, 5)`` rows ``(batch_idx, x1, y1, x2, y2)`` in input-image
            coordinates (scaled by ``spatial_scale``).
        output: ``(R, C, aligned_height, aligned_width)``, written in place.
        argmax_y, argmax_x: only used by ``pool_mode=0`` (unsupported here);
            empty tensors for avg pooling.
        aligned_height, aligned_width: output bin grid.
        spatial_scale: feature-map / image scale.
        sampling_ratio: samples per bin side; ``<= 0`` = adaptive.
        pool_mode: 1 (avg); 0 (max) raises ``MMCVOpUnavailableError``.
        aligned: pixel-centre (``True``) or legacy (``False``) alignment.
    """
    _check_pool_mode(pool_mode)
    if rois.size(0) == 0 or output.numel() == 0:
        return
    dt = _kernel_dtype(input.dtype)
    out = torch.ops.torchvision.roi_align(
        input.to(dt), rois.to(dt), as_c_float(spatial_scale),
        aligned_height, aligned_width, sampling_ratio,
        bool(aligned))  # (R, C, PH, PW)
    output.copy_(out)


def roi_align_backward(grad_output: Tensor, rois: Tensor, argmax_y: Tensor,
                       argmax_x: Tensor, grad_input: Tensor, *,
                       aligned_height: int, aligned_width: int,
                       spatial_scale: float, sampling_ratio: int,
                       pool_mode: int, aligned: bool) -> None:
    """RoIAlign backward; stand-in for ``ext_module.roi_align_backward``.

    Args:
        grad_output: ``(R, C, aligned_height, aligned_width)``.
        rois: ``(R, 5)`` as in :func:`roi_align_forward`.
        argmax_y, argmax_x: unused for avg pooling.
        grad_input: ``(N, C, H, W)``; the input gradient is *added* to it in
            place (mmcv's kernel accumulates with ``atomicAdd``).
        Other arguments as in :func:`roi_align_forward`.
    """
    _check_pool_mode(pool_mode)
    if rois.size(0) == 0 or grad_output.numel() == 0:
        return
    n, c, h, w = grad_input.shape
    dt = _kernel_dtype(grad_input.dtype)
    grad = torch.ops.torchvision._roi_align_backward(
        grad_output.to(dt), rois.to(dt),
        as_c_float(spatial_scale), aligned_height, aligned_width, n, c, h, w,
        sampling_ratio, bool(aligned))  # (N, C, H, W)
    grad_input.add_(grad.to(grad_input.dtype))
