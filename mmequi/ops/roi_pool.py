"""RoIPool (max pooling over quantised bins) with mmcv's semantics.

Mirrors ``roi_pool_forward_cuda_kernel`` / ``roi_pool_backward_cuda_kernel``
(``mmcv/ops/csrc/common/cuda/roi_pool_cuda_kernel.cuh``; mmcv has no CPU
kernel for this op). ``torchvision.ops.roi_pool`` is *not* used: it rounds
the roi corners (``round(x1 * scale)``, ``round(x2 * scale)``, ``+1``),
whereas mmcv scales ``x1`` and ``x2 + 1`` without rounding and quantises
each bin with ``floor(start)`` / ``ceil(end)``, so bins differ.

Per roi ``(b, x1, y1, x2, y2)`` (all arithmetic in the input dtype):

* ``rx1 = x1 * s``, ``rx2 = (x2 + 1) * s`` (same for y);
  ``roi_w = rx2 - rx1``. If ``roi_w <= 0`` or ``roi_h <= 0`` the roi is
  skipped: ``output`` and ``argmax`` keep their values (the mmcv wrapper
  initialises them to 0, so the backward then routes that roi's gradient to
  position 0 of its feature map -- reproduced, since we use the same rule).
  NaN-sized rois are skipped as well.
* bin ``pw`` covers columns ``[floor(pw * bin_w + rx1), ceil((pw + 1) * bin_w
  + rx1))`` clipped to ``[0, W]`` (same for rows).
* empty bin: output 0, argmax -1. Otherwise the maximum over the bin of the
  values ``> -FLT_MAX`` (NaN never compares greater, so it is skipped), first
  one in a row-major scan on ties; argmax is the flat index ``h * W + w``
  (int32). A non-empty bin without such a value gives ``-FLT_MAX``, -1.
* backward: ``grad_input[b, c].flat[argmax] += grad_output`` where
  ``argmax != -1``.

Vectorised: each bin's window is gathered as a padded ``(KH, KW)`` block
with invalid cells masked out. Rois are sorted by their largest bin extent and
processed in chunks whose padded gather stays under ``_CHUNK_ELEMS``
elements, so a few large rois do not inflate the padding of all others.
Planning the chunks costs one host sync (per-roi window sizes) per call.

Known residual difference: nvcc may fuse mmcv's ``pw * bin_w + rx1`` into an
FMA; a bin edge can then differ from ours only when that value is within one
float rounding of an integer.
"""
from typing import Tuple

import numpy as np
import torch
from torch import Tensor

from ._utils import FLT_MAX, as_c_float

_NEG_FLT_MAX = -FLT_MAX
# Max gathered elements (C * rois * PH * PW * KH * KW) per chunk.
_CHUNK_ELEMS = 1 << 24


def roi_pool_forward(input: Tensor, rois: Tensor, output: Tensor,
                     argmax: Tensor, *, pooled_height: int, pooled_width: int,
                     spatial_scale: float) -> None:
    """RoIPool forward; stand-in for mmcv's ``ext_module.roi_pool_forward``.

    Args:
        input: ``(N, C, H, W)`` feature map.
        rois: ``(R, 5)`` rows ``(batch_idx, x1, y1, x2, y2)`` in image
            coordinates.
        output: ``(R, C, pooled_height, pooled_width)``, written in place
            (rows of malformed rois are left untouched).
        argmax: ``(R, C, pooled_height, pooled_width)`` int32, written in
            place with the flat ``h * W + w`` index of each maximum, -1 for
            bins without one (rows of malformed rois are left untouched).
        pooled_height, pooled_width: output bin grid.
        spatial_scale: feature-map / image scale.
    """
    num_rois = rois.size(0)
    if num_rois == 0 or output.numel() == 0:
        return
    n, c, h, w = input.shape
    dtype, device = input.dtype, input.device
    ph_n, pw_n = pooled_height, pooled_width

    rois = rois.to(dtype)  # (R, 5)
    scale = as_c_float(spatial_scale)
    roi_x1 = rois[:, 1] * scale  # (R,)
    roi_y1 = rois[:, 2] * scale
    roi_x2 = (rois[:, 3] + 1) * scale
    roi_y2 = (rois[:, 4] + 1) * scale
    roi_w = roi_x2 - roi_x1
    roi_h = roi_y2 - roi_y1
    valid = (roi_w > 0) & (roi_h > 0)  # (R,) mmcv: skip if w <= 0 or h <= 0
    bin_w = roi_w / pw_n  # (R,)
    bin_h = roi_h / ph_n

    def edges(start: Tensor, size: Tensor, bins: int,
              limit: int) -> Tuple[Tensor, Tensor]:
        p = torch.arange(bins, dtype=dtype, device=device)  # (P,)
        lo = torch.floor(p * size[:, None] + start[:, None])  # (R, P)
        hi = torch.ceil((p + 1) * size[:, None] + start[:, None])  # (R, P)
        lo = torch.where(valid[:, None], lo, torch.zeros_like(lo))
        hi = torch.where(valid[:, None], hi, lo)  # skipped rois: empty bins
        lo = lo.clamp(0, limit).long()
        hi = hi.clamp(0, limit).long()
        return lo, hi

    bx1, bx2 = edges(roi_x1, bin_w, pw_n, w)  # (R, PW)
    by1, by2 = edges(roi_y1, bin_h, ph_n, h)  # (R, PH)
    kw_bin = (bx2 - bx1).clamp_min(0)  # (R, PW)
    kh_bin = (by2 - by1).clamp_min(0)  # (R, PH)
    empty = (kh_bin[:, :, None] == 0) | (kw_bin[:, None, :] == 0)  # (R,PH,PW)
    not_found_val = torch.where(
        empty, torch.zeros((), dtype=dtype, device=device),
        torch.full((), _NEG_FLT_MAX, dtype=dtype, device=device))  # (R,PH,PW)

    # Defaults for every well-formed roi (bins without a maximum); malformed
    # rois keep what the buffers held. Rois with non-empty bins are
    # overwritten chunk by chunk below.
    sel = valid[:, None, None, None]  # (R, 1, 1, 1)
    output.copy_(
        torch.where(sel, not_found_val[:, None].to(output.dtype), output))
    argmax.copy_(torch.where(sel, torch.full_like(argmax, -1), argmax))

    # Window extent per roi -> one host sync to plan the chunks. Rois are
    # sorted by window area so a chunk pads only to similar-sized windows.
    kh_roi = kh_bin.amax(1)  # (R,)
    kw_roi = kw_bin.amax(1)  # (R,)
    kh_np, kw_np = torch.stack([kh_roi, kw_roi]).cpu().numpy()  # (R,), (R,)
    area = kh_np * kw_np
    order = np.argsort(-area, kind='stable')
    n_work = int((area > 0).sum())
    if n_work == 0:
        return
    order_dev = torch.from_numpy(order[:n_work]).to(device)  # (R',)
    kh_np, kw_np = kh_np[order[:n_work]], kw_np[order[:n_work]]

    batch = rois[:, 0].long()  # (R,)
    # (C, N*H*W): one gather per chunk picks values of every (roi, bin, cell).
    feat = input.transpose(0, 1).reshape(c, n * h * w)
    per_cell = c * ph_n * pw_n
    max_rois = max(1, _CHUNK_ELEMS // per_cell)
    s = 0
    while s < n_work:
        # largest chunk whose padded gather fits the element budget
        kh_run = np.maximum.accumulate(kh_np[s:s + max_rois])
        kw_run = np.maximum.accumulate(kw_np[s:s + max_rois])
        cost = kh_run * kw_run * np.arange(1, len(kh_run) + 1) * per_cell
        r = max(1, int(np.searchsorted(cost, _CHUNK_ELEMS, side='right')))
        kh, kw = int(kh_run[r - 1]), int(kw_run[r - 1])
        ids = order_dev[s:s + r]  # (r,)
        s += r
        _pool_chunk(feat, ids, batch, by1, by2, bx1, bx2, not_found_val,
                    output, argmax, kh, kw, h, w)


def _pool_chunk(feat: Tensor, ids: Tensor, batch: Tensor, by1: Tensor,
                by2: Tensor, bx1: Tensor, bx2: Tensor, not_found_val: Tensor,
                output: Tensor, argmax: Tensor, kh: int, kw: int, h: int,
                w: int) -> None:
    """Max-pool the rois ``ids`` (bins at most ``kh x kw`` cells) into
    ``output``/``argmax`` rows ``ids``."""
    c = feat.size(0)
    r, ph_n, pw_n = ids.numel(), by1.size(1), bx1.size(1)
    device = feat.device
    by1, by2 = by1[ids], by2[ids]  # (r, PH)
    bx1, bx2 = bx1[ids], bx2[ids]  # (r, PW)
    rows = by1[:, :, None] + torch.arange(kh, device=device)  # (r, PH, KH)
    cols = bx1[:, :, None] + torch.arange(kw, device=device)  # (r, PW, KW)
    row_ok = rows < by2[:, :, None]  # (r, PH, KH)
    col_ok = cols < bx2[:, :, None]  # (r, PW, KW)
    cell_ok = (row_ok[:, :, None, :, None]
               & col_ok[:, None, :, None, :])  # (r, PH, PW, KH, KW)
    flat = (batch[ids][:, None, None, None, None] * (h * w)
            + rows.clamp(max=h - 1)[:, :, None, :, None] * w
            + cols.clamp(max=w - 1)[:, None, :, None, :]
            )  # (r, PH, PW, KH, KW)
    vals = feat.index_select(1, flat.reshape(-1)).view(
        c, r, ph_n, pw_n, kh * kw)  # (C, r, PH, PW, KH*KW)
    # mmcv keeps a value only if it is > the running max, which starts at
    # -FLT_MAX: values <= -FLT_MAX and NaN never win.
    keep = cell_ok.view(1, r, ph_n, pw_n, kh * kw) & (vals > _NEG_FLT_MAX)
    vals = vals.masked_fill(~keep, float('-inf'))
    best, k = vals.max(dim=-1)  # (C, r, PH, PW); first max on ties
    found = best > float('-inf')  # (C, r, PH, PW)
    # flat h * W + w of the winner (row-major within the window)
    idx = ((by1[None, :, :, None] + k // kw) * w
           + bx1[None, :, None, :] + k % kw)  # (C, r, PH, PW)
    out = torch.where(found, best, not_found_val[ids])  # (C, r, PH, PW)
    arg = torch.where(found, idx, torch.full_like(idx, -1))
    output.index_copy_(0, ids, out.transpose(0, 1).to(output.dtype))
    argmax.index_copy_(0, ids, arg.transpose(0, 1).to(argmax.dtype))


def roi_pool_backward(grad_output: Tensor, rois: Tensor, argmax: Tensor,
                      grad_input: Tensor, *, pooled_height: int,
                      pooled_width: int, spatial_scale: float) -> None:
    """RoIPool backward; stand-in for mmcv's ``ext_module.roi_pool_backward``.

    Args:
        grad_output: ``(R, C, pooled_height, pooled_width)``.
        rois: ``(R, 5)``; only the batch index column is used.
        argmax: ``(R, C, pooled_height, pooled_width)`` from the forward.
        grad_input: ``(N, C, H, W)``; ``grad_output`` is added in place at
            ``[b, c].flat[argmax]`` for every ``argmax != -1``.
        pooled_height, pooled_width, spatial_scale: unused (kept for the
            mmcv signature).
    """
    if rois.size(0) == 0 or grad_output.numel() == 0:
        return
    _, c, h, w = grad_input.shape
    device = grad_input.device
    batch = rois[:, 0].long()  # (R,)
    base = (batch[:, None] * c + torch.arange(c, device=device)) * (
        h * w)  # (R, C)
    arg = argmax.long()  # (R, C, PH, PW)
    ok = arg != -1
    idx = torch.where(ok, base[:, :, None, None] + arg,
                      torch.zeros_like(arg))  # (R, C, PH, PW)
    src = torch.where(ok, grad_output.to(grad_input.dtype),
                      torch.zeros((), dtype=grad_input.dtype,
                                  device=device))  # (R, C, PH, PW)
    if grad_input.is_contiguous():
        grad_input.view(-1).index_put_((idx.reshape(-1), ), src.reshape(-1),
                                       accumulate=True)
    else:
        acc = torch.zeros(grad_input.numel(), dtype=grad_input.dtype,
                          device=device)
        acc.index_put_((idx.reshape(-1), ), src.reshape(-1), accumulate=True)
        grad_input.add_(acc.view_as(grad_input))
