"""mmcv.ops.nms / batched_nms on mmequi's backend vs a brute-force greedy
NMS written here (numpy float32, mmcv's IoU with offset 0/1).

Tie order: mmcv's C++ kernel orders boxes with ``scores.sort(0,
descending=True)`` (ATen's sort, not guaranteed stable); the reference takes
its order from the same call, so tied scores are ranked exactly as in mmcv.
"""
import mmequi  # noqa: F401  (installs the mmcv op backend first)

import numpy as np
import pytest
import torch
from mmcv.ops import batched_nms, nms

from mmequi.ops import nms as ext_nms


def mmcv_order(scores):
    """Descending order from the same ATen call mmcv's kernel makes."""
    return torch.as_tensor(scores).sort(0, descending=True)[1].numpy()


def ref_iou(a, b, offset):
    """mmcv's nms_cpu IoU, evaluated in float32 in the same order."""
    f = np.float32
    off = f(offset)
    area_a = (a[2] - a[0] + off) * (a[3] - a[1] + off)
    area_b = (b[2] - b[0] + off) * (b[3] - b[1] + off)
    w = max(f(0), min(a[2], b[2]) - max(a[0], b[0]) + off)
    h = max(f(0), min(a[3], b[3]) - max(a[1], b[1]) + off)
    inter = w * h
    return inter / (area_a + area_b - inter)


def ref_greedy(boxes, order, thr, offset, same_group=None):
    """Greedy suppression over ``order``; ``same_group(i, j)`` limits which
    pairs may suppress each other (class-aware NMS)."""
    boxes = np.asarray(boxes, dtype=np.float32)
    thr = np.float32(thr)
    removed = np.zeros(len(boxes), dtype=bool)
    keep = []
    for pos, i in enumerate(order):
        if removed[i]:
            continue
        keep.append(int(i))
        for j in order[pos + 1:]:
            if removed[j] or (same_group and not same_group(i, j)):
                continue
            if ref_iou(boxes[i], boxes[j], offset) > thr:
                removed[j] = True
    return np.array(keep, dtype=np.int64)


def ref_nms(boxes, scores, thr, offset=0):
    return ref_greedy(boxes, mmcv_order(scores), thr, offset)


def make_boxes(n, seed, quantized=True, size=20.):
    """Clustered boxes (many overlaps); quantised coordinates make IoUs hit
    thresholds exactly; scores with many ties."""
    g = torch.Generator().manual_seed(seed)
    centers = torch.rand(max(n // 8, 1), 2, generator=g) * size
    ctr = centers[torch.randint(len(centers), (n, ), generator=g)]
    ctr = ctr + torch.randn(n, 2, generator=g)
    wh = torch.rand(n, 2, generator=g) * 6 + 0.5
    boxes = torch.cat([ctr - wh / 2, ctr + wh / 2], 1)
    if quantized:
        boxes = (boxes * 4).round() / 4
    scores = torch.randint(0, 10, (n, ), generator=g).float() / 10  # ties
    return boxes.float(), scores.float()


@pytest.mark.parametrize('offset', [0, 1])
@pytest.mark.parametrize('thr', [0.3, 0.5, 0.7])
@pytest.mark.parametrize('quantized', [True, False])
def test_nms_matches_bruteforce(offset, thr, quantized):
    for seed in range(3):
        boxes, scores = make_boxes(160, seed * 7 + offset, quantized)
        dets, inds = nms(boxes, scores, thr, offset=offset)
        expect = ref_nms(boxes.numpy(), scores.numpy(), thr, offset)
        assert inds.dtype == torch.long
        np.testing.assert_array_equal(inds.numpy(), expect)
        # dets = [boxes[inds], scores[inds]]
        torch.testing.assert_close(dets[:, :4], boxes[inds])
        torch.testing.assert_close(dets[:, 4], scores[inds])
        assert 0 < len(expect) < len(boxes)


def test_nms_offset_changes_result():
    """Touching integer boxes: IoU 0 with offset 0, > 0 with offset 1."""
    boxes = torch.tensor([[0., 0., 2., 2.], [2., 0., 4., 2.], [0., 0., 2., 1.]])
    scores = torch.tensor([0.9, 0.8, 0.7])
    # offset 0: box1 touches box0 (IoU 0), box2 has IoU 0.5 with box0
    assert nms(boxes, scores, 0.49, offset=0)[1].tolist() == [0, 1]
    assert nms(boxes, scores, 0.5, offset=0)[1].tolist() == [0, 1, 2]
    # offset 1: box0/box1 IoU = 3/15 = 0.2; box0/box2 IoU = 6/9
    assert nms(boxes, scores, 0.19, offset=1)[1].tolist() == [0]
    assert nms(boxes, scores, 0.2, offset=1)[1].tolist() == [0, 1]
    for offset in (0, 1):
        for thr in (0.19, 0.2, 0.49, 0.5, 0.66, 0.67):
            np.testing.assert_array_equal(
                nms(boxes, scores, thr, offset=offset)[1].numpy(),
                ref_nms(boxes.numpy(), scores.numpy(), thr, offset))


def test_nms_numpy_input():
    boxes, scores = make_boxes(64, 3)
    b, s = boxes.numpy(), scores.numpy()
    dets, inds = nms(b, s, 0.5)
    assert isinstance(dets, np.ndarray) and isinstance(inds, np.ndarray)
    np.testing.assert_array_equal(inds, ref_nms(b, s, 0.5))
    np.testing.assert_array_equal(dets[:, :4], b[inds])
    np.testing.assert_array_equal(dets[:, 4], s[inds])


def test_nms_score_threshold_and_max_num():
    boxes, scores = make_boxes(120, 5)
    for score_thr in (0.0, 0.35):
        valid = np.nonzero(scores.numpy() > score_thr)[0]
        sub = ref_nms(boxes.numpy()[valid], scores.numpy()[valid], 0.4)
        full = valid[sub] if score_thr > 0 else ref_nms(
            boxes.numpy(), scores.numpy(), 0.4)
        for max_num in (-1, 5):
            _, inds = nms(boxes, scores, 0.4, score_threshold=score_thr,
                          max_num=max_num)
            expect = full[:max_num] if max_num > 0 else full
            np.testing.assert_array_equal(inds.numpy(), expect)
    assert len(full) > 5


def test_nms_empty():
    dets, inds = nms(torch.zeros(0, 4), torch.zeros(0), 0.5)
    assert inds.shape == (0, ) and inds.dtype == torch.long
    assert dets.shape == (0, 5)
    out = ext_nms(torch.zeros(0, 4), torch.zeros(0), iou_threshold=0.5,
                  offset=0)
    assert out.shape == (0, ) and out.dtype == torch.long


def test_nms_kernel_direct_float64_and_single_box():
    boxes, scores = make_boxes(50, 11)
    got = ext_nms(boxes.double(), scores.double(), iou_threshold=0.5,
                  offset=1)
    np.testing.assert_array_equal(
        got.numpy(), ref_nms(boxes.numpy(), scores.numpy(), 0.5, 1))
    one = ext_nms(boxes[:1], scores[:1], iou_threshold=0.5, offset=0)
    assert one.tolist() == [0]
    with pytest.raises(ValueError):
        ext_nms(boxes, scores, iou_threshold=0.5, offset=2)


def ref_batched_offset_path(boxes, scores, idxs, thr):
    """mmcv's offset trick == one greedy pass over the global score order in
    which only boxes of the same class suppress each other."""
    idxs = np.asarray(idxs)
    return ref_greedy(boxes, mmcv_order(scores), thr, 0,
                      same_group=lambda i, j: idxs[i] == idxs[j])


def ref_batched_split_path(boxes, scores, idxs, thr, max_num=-1):
    """mmcv's split path: NMS per class, then all kept sorted by score."""
    boxes, scores, idxs = map(np.asarray, (boxes, scores, idxs))
    kept = []
    for cls in np.unique(idxs):
        members = np.nonzero(idxs == cls)[0]
        kept.extend(members[ref_nms(boxes[members], scores[members], thr)])
    kept = np.sort(np.array(kept, dtype=np.int64))
    keep = kept[mmcv_order(scores[kept])]
    return keep[:max_num] if max_num > 0 else keep


@pytest.mark.parametrize('thr', [0.3, 0.6])
def test_batched_nms_class_aware(thr):
    for seed in range(3):
        boxes, scores = make_boxes(150, 100 + seed)
        idxs = torch.randint(0, 4, (150, ),
                             generator=torch.Generator().manual_seed(seed))
        # offset path (N < split_thr)
        dets, keep = batched_nms(boxes, scores, idxs,
                                 dict(type='nms', iou_threshold=thr))
        expect = ref_batched_offset_path(boxes.numpy(), scores.numpy(),
                                         idxs.numpy(), thr)
        np.testing.assert_array_equal(keep.numpy(), expect)
        torch.testing.assert_close(dets[:, :4], boxes[keep])
        torch.testing.assert_close(dets[:, 4], scores[keep])
        # without score ties both paths keep the same boxes
        distinct = scores + torch.randperm(
            150, generator=torch.Generator().manual_seed(seed)) * 1e-4
        _, keep_a = batched_nms(boxes, distinct, idxs,
                                dict(type='nms', iou_threshold=thr))
        _, keep_b = batched_nms(boxes, distinct, idxs,
                                dict(type='nms', iou_threshold=thr,
                                     split_thr=10))
        np.testing.assert_array_equal(keep_a.numpy(), keep_b.numpy())
        np.testing.assert_array_equal(
            keep_a.numpy(),
            ref_batched_split_path(boxes.numpy(), distinct.numpy(),
                                   idxs.numpy(), thr))
        # split path (N >= split_thr): per-class NMS, sequentially
        dets, keep = batched_nms(
            boxes, scores, idxs,
            dict(type='nms', iou_threshold=thr, split_thr=10, max_num=30))
        np.testing.assert_array_equal(
            keep.numpy(),
            ref_batched_split_path(boxes.numpy(), scores.numpy(),
                                   idxs.numpy(), thr, max_num=30))
        torch.testing.assert_close(dets[:, :4], boxes[keep])
        # class-agnostic = plain NMS
        _, keep = batched_nms(boxes, scores, idxs,
                              dict(type='nms', iou_threshold=thr),
                              class_agnostic=True)
        np.testing.assert_array_equal(
            keep.numpy(), ref_nms(boxes.numpy(), scores.numpy(), thr))
