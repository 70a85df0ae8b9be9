"""Non-maximum suppression with mmcv's ``ext_module.nms`` semantics.

Mirrors ``nms_cpu`` (``mmcv/ops/csrc/pytorch/cpu/nms.cpp``) and
``NMSCUDAKernelLauncher`` (``csrc/pytorch/cuda/nms_cuda.cu``): sort by
descending score with ``scores.sort(0, descending=True)``, then greedy
suppression of every later box whose IoU with a kept box is ``> iou_threshold``,
where a box's width is ``x2 - x1 + offset`` (``offset`` 0 or 1).

The suppression itself runs in ``torchvision.ops.nms`` (CPU and CUDA kernels):

* ``offset=0``: torchvision's IoU is the same formula
  (``inter / (area_i + area_j - inter)``, ``max(0, .)`` clamped widths).
* ``offset=1``: we shift ``x2`` and ``y2`` by ``+1``. Then
  ``(x2 + 1) - x1 == x2 - x1 + 1`` for widths, areas and intersections
  (``min(a2 + 1, b2 + 1) - max(a1, b1) == min(a2, b2) - max(a1, b1) + 1``),
  so the IoU is algebraically identical. In float32 the two orders of
  evaluation can differ by one rounding (only for non-integer coordinates),
  which matters only for an IoU within ~1 ulp of the threshold.

Other details reproduced exactly:

* Order of tied scores: we sort with the same ``scores.sort(0, descending=True)``
  call mmcv makes (torchvision's CUDA kernel sorts *stably*, mmcv does not), and
  hand torchvision strictly decreasing rank scores so its own sort cannot
  reorder anything.
* Threshold precision: mmcv receives ``iou_threshold`` as a C++ ``float``;
  torchvision compares against a ``double``. We round the threshold to float32
  first so ``ovr > thr`` decides identically.
* mmcv's kernels read boxes as float32 (``data_ptr<float>``); we compute in
  float32 too (other float dtypes are converted instead of rejected).

Known residual difference: on CUDA, mmcv tests ``inter > thr * union`` while
torchvision tests ``inter / union > thr``; they can disagree only when the
IoU is within float rounding of the threshold.
"""
import torch
from torch import Tensor
from torchvision.ops import nms as _tv_nms

from ._utils import as_c_float


def nms(boxes: Tensor, scores: Tensor, iou_threshold: float,
        offset: int) -> Tensor:
    """Greedy NMS; stand-in for mmcv's ``ext_module.nms``.

    Args:
        boxes: ``(N, 4)`` boxes ``(x1, y1, x2, y2)``.
        scores: ``(N,)`` scores.
        iou_threshold: boxes with IoU ``> iou_threshold`` to a kept,
            higher-ranked box are suppressed.
        offset: 0 or 1; box width is ``x2 - x1 + offset``.

    Returns:
        ``(K,)`` int64 indices into ``boxes`` of the kept boxes, ordered by
        descending score (same device as ``boxes``).
    """
    if offset not in (0, 1):
        raise ValueError(f'offset must be 0 or 1, got {offset}')
    if boxes.numel() == 0:
        return boxes.new_empty((0, ), dtype=torch.long)
    boxes = boxes.reshape(-1, 4).float()  # (N, 4), mmcv reads float32
    # Same call as mmcv (not stable): ties are ordered exactly as in mmcv.
    order = scores.sort(0, descending=True)[1]  # (N,)
    boxes_sorted = boxes.index_select(0, order)  # (N, 4)
    if offset:
        boxes_sorted = boxes_sorted + boxes_sorted.new_tensor([0., 0., 1., 1.])
    # Strictly decreasing stand-in scores: torchvision keeps our order
    # (exact in float32 up to 2**24 boxes).
    n = boxes_sorted.size(0)
    rank_scores = torch.arange(
        n, 0, -1, dtype=torch.float32, device=boxes_sorted.device)  # (N,)
    keep = _tv_nms(boxes_sorted, rank_scores,
                   as_c_float(iou_threshold))  # (K,) sorted positions
    return order.index_select(0, keep)  # (K,)
