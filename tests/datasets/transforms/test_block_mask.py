import math
import random

import numpy as np
import pytest
import torch
from scipy import stats

from mmequi.datasets.transforms import iBOTBlockMaskGenerator
from mmpretrain.registry import TRANSFORMS

from ._helpers import assert_rate

GRID = 14


def naive_ibot_masks(num, height=GRID, width=GRID, pred_ratio=(0.0, 0.3),
                     pred_ratio_var=(0.0, 0.2), aspect=(0.3, 1 / 0.3)):
    """The iBOT loader's block masking written out plainly (per-pixel
    loops), with the same calls to Python's ``random``; ``pred_ratio`` is a
    float or a tuple as in the official ``get_pred_ratio``. Returns the
    masks and the drawn ratios."""
    masks, ratios = [], []
    log_aspect = (math.log(aspect[0]), math.log(aspect[1]))
    for _ in range(num):
        if isinstance(pred_ratio, float):  # official: no random.choice
            ratio = (random.uniform(pred_ratio - pred_ratio_var,
                                    pred_ratio + pred_ratio_var)
                     if pred_ratio_var > 0 else pred_ratio)
        else:
            cands = []
            for mean, var in zip(pred_ratio, pred_ratio_var):
                cands.append(random.uniform(mean - var, mean + var)
                             if var > 0 else mean)
            ratio = random.choice(cands)
        high = ratio * height * width
        mask = [[False] * width for _ in range(height)]
        mask_count = 0
        while mask_count < high:
            max_mask_patches = high - mask_count
            delta = 0
            for _attempt in range(10):
                low = (min(height, width) // 3)**2
                target_area = random.uniform(low, max_mask_patches)
                aspect_ratio = math.exp(random.uniform(*log_aspect))
                h = int(round(math.sqrt(target_area * aspect_ratio)))
                w = int(round(math.sqrt(target_area / aspect_ratio)))
                if w < width and h < height:
                    top = random.randint(0, height - h)
                    left = random.randint(0, width - w)
                    num_masked = sum(mask[i][j]
                                     for i in range(top, top + h)
                                     for j in range(left, left + w))
                    if 0 < h * w - num_masked <= max_mask_patches:
                        for i in range(top, top + h):
                            for j in range(left, left + w):
                                if not mask[i][j]:
                                    mask[i][j] = True
                                    delta += 1
                if delta > 0:
                    break
            if delta == 0:
                break
            mask_count += delta
        masks.append(np.array(mask, dtype=bool))
        ratios.append(ratio)
    return masks, ratios


def _views(size=224, n=5):
    return [torch.zeros(3, size, size, dtype=torch.uint8)] * 2 + [
        torch.zeros(3, 96, 96, dtype=torch.uint8)
    ] * (n - 2)


def _masks(gen, calls, views=None):
    views = _views() if views is None else views
    return np.concatenate([gen(dict(img=views))['mask'] for _ in range(calls)])


def test_output_format():
    random.seed(0)
    out = iBOTBlockMaskGenerator()(dict(img=_views()))
    assert out['mask'].dtype == bool and out['mask'].shape == (2, 14, 14)


def test_identical_to_official_algorithm_with_same_seed():
    gen = iBOTBlockMaskGenerator()
    random.seed(2024)
    ours = _masks(gen, 250)
    random.seed(2024)
    ref, _ = naive_ibot_masks(500)
    assert np.array_equal(ours, np.stack(ref))
    # other settings and a non-square grid (views 64 x 96, patch 8)
    gen = iBOTBlockMaskGenerator(patch_size=8, pred_ratio=0.3,
                                 pred_ratio_var=0.1,
                                 pred_aspect_ratio=(0.5, 2.0))
    views = [torch.zeros(3, 64, 96, dtype=torch.uint8)] * 2
    random.seed(7)
    ours = _masks(gen, 100, views)
    random.seed(7)
    ref, _ = naive_ibot_masks(200, 8, 12, 0.3, 0.1, (0.5, 2.0))
    assert np.array_equal(ours, np.stack(ref))
    # integral target (0.25 * 8 * 8 = 16): exercises the ``<= max_mask``
    # boundary of the acceptance test
    gen = iBOTBlockMaskGenerator(input_size=64, patch_size=8,
                                 pred_ratio=0.25, pred_ratio_var=0.0)
    random.seed(11)
    ours = _masks(gen, 200, [torch.zeros(3, 64, 64)] * 2)
    random.seed(11)
    ref, _ = naive_ibot_masks(400, 8, 8, 0.25, 0.0)
    assert np.array_equal(ours, np.stack(ref))
    assert (ours.reshape(400, -1).sum(1) == 16).mean() > 0.5


def test_mask_statistics():
    """4000 masks: half empty, masked fraction distributed like an
    independent simulation of the algorithm, never above the ratio."""
    gen = iBOTBlockMaskGenerator()
    random.seed(0)
    masks = _masks(gen, 2000)
    counts = masks.reshape(len(masks), -1).sum(1)
    empty = counts == 0
    assert_rate(int(empty.sum()), len(masks), 0.5)
    frac = counts[~empty] / GRID**2
    # ratio ~ U(0.1, 0.5) and the count never exceeds ratio * 196
    assert frac.min() > 0 and frac.max() <= 0.5
    random.seed(12345)  # independent draws of the reference
    ref, ratios = naive_ibot_masks(4000)
    ref_counts = np.array([m.sum() for m in ref])
    for m, r in zip(ref, ratios):
        assert m.sum() <= r * GRID**2
        assert (m.sum() == 0) == (r == 0)
    ref_frac = ref_counts[ref_counts > 0] / GRID**2
    se = math.sqrt(frac.var() / len(frac) + ref_frac.var() / len(ref_frac))
    assert abs(frac.mean() - ref_frac.mean()) < 4 * se
    assert stats.ks_2samp(frac, ref_frac).pvalue > 1e-3
    # the achieved fraction tracks the drawn ratio U(0.1, 0.5) closely
    assert 0.27 < frac.mean() < 0.31


def _largest_solid_rectangle(mask):
    h, w = mask.shape
    pre = np.zeros((h + 1, w + 1), int)
    pre[1:, 1:] = mask.cumsum(0).cumsum(1)
    best = 0
    for t in range(h):
        for b in range(t + 1, h + 1):
            for left in range(w):
                for right in range(left + 1, w + 1):
                    area = (b - t) * (right - left)
                    if area <= best:
                        continue
                    s = (pre[b, right] - pre[t, right] - pre[b, left] +
                         pre[t, left])
                    if s == area:
                        best = area
    return best


def test_masks_are_made_of_blocks():
    """A non-empty mask contains its first block: a solid rectangle with
    h, w < 14 and area >= 12 (target area >= (14 // 3) ** 2 = 16, aspect in
    [0.3, 1/0.3], rounded h, w)."""
    min_area = min(
        int(round(math.sqrt(a * r))) * int(round(math.sqrt(a / r)))
        for a in np.linspace(16, 20, 41)
        for r in np.exp(np.linspace(math.log(0.3), -math.log(0.3), 401)))
    assert min_area >= 12
    gen = iBOTBlockMaskGenerator()
    random.seed(1)
    masks = _masks(gen, 40)
    masks = [m for m in masks if m.any()]
    assert len(masks) > 20
    for m in masks:
        assert _largest_solid_rectangle(m) >= min_area
        assert m.sum() <= 0.5 * GRID**2


def test_zero_ratio_and_fixed_ratio():
    random.seed(0)
    out = iBOTBlockMaskGenerator(pred_ratio=0.0, pred_ratio_var=0.0)(
        dict(img=_views()))
    assert not out['mask'].any()
    gen = iBOTBlockMaskGenerator(pred_ratio=0.3, pred_ratio_var=0.0)
    counts = _masks(gen, 100).reshape(200, -1).sum(1)
    assert counts.max() <= math.floor(0.3 * 196) and counts.min() > 0
    assert counts.mean() > 0.85 * 0.3 * 196


def test_grid_from_views_and_input_size():
    random.seed(0)
    gen = iBOTBlockMaskGenerator(patch_size=16)
    views = [torch.zeros(3, 32, 48, dtype=torch.uint8)] * 2
    assert gen(dict(img=views))['mask'].shape == (2, 2, 3)
    arrays = [np.zeros((48, 64, 3), np.uint8)] * 3
    assert gen(dict(img=arrays))['mask'].shape == (2, 3, 4)
    gen = iBOTBlockMaskGenerator(input_size=224, num_global=3)
    assert gen(dict())['mask'].shape == (3, 14, 14)
    views = [torch.zeros(3, 224, 224, dtype=torch.uint8)] * 3
    assert gen(dict(img=views))['mask'].shape == (3, 14, 14)
    gen = iBOTBlockMaskGenerator(input_size=(96, 160), patch_size=16)
    assert gen(dict(img=np.zeros((5, 5, 3), np.uint8)))['mask'].shape == (
        2, 6, 10)


def test_uses_python_random_only():
    gen = iBOTBlockMaskGenerator()
    np_state = np.random.get_state()[1].copy()
    torch_state = torch.get_rng_state()
    random.seed(3)
    a = gen(dict(img=_views()))['mask']
    random.seed(3)
    b = gen(dict(img=_views()))['mask']
    assert np.array_equal(a, b)
    assert np.array_equal(np.random.get_state()[1], np_state)
    assert torch.equal(torch.get_rng_state(), torch_state)


def test_registry_and_repr():
    gen = TRANSFORMS.build(dict(type='iBOTBlockMaskGenerator',
                                patch_size=8))
    text = repr(gen)
    assert 'patch_size=8' in text and 'pred_ratio=(0.0, 0.3)' in text
    assert 'pred_ratio_var=(0.0, 0.2)' in text


@pytest.mark.parametrize('kwargs, match', [
    (dict(patch_size=0), 'patch_size'),
    (dict(num_global=0), 'num_global'),
    (dict(input_size=0), 'input_size'),
    (dict(input_size=(224, 100)), 'divisible'),
    (dict(pred_ratio=(0.0, 0.3), pred_ratio_var=(0.0, )), 'same length'),
    (dict(pred_ratio=0.3, pred_ratio_var=(0.1, )), 'same length'),
    (dict(pred_ratio=0.1, pred_ratio_var=0.2), 'var <= ratio'),
    (dict(pred_ratio=0.9, pred_ratio_var=0.2), 'ratio \\+ var <= 1'),
    (dict(pred_ratio='0.3'), 'pred_ratio'),
    (dict(pred_aspect_ratio=(2.0, 1.0)), 'pred_aspect_ratio'),
    (dict(max_attempts=0), 'max_attempts'),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        iBOTBlockMaskGenerator(**kwargs)


def test_bad_inputs():
    gen = iBOTBlockMaskGenerator()
    with pytest.raises(ValueError, match='not divisible'):
        gen(dict(img=[torch.zeros(3, 100, 100)] * 2))
    with pytest.raises(ValueError, match='needs 2 views'):
        gen(dict(img=[torch.zeros(3, 224, 224)]))
    with pytest.raises(ValueError, match='differ in size'):
        gen(dict(img=[torch.zeros(3, 224, 224), torch.zeros(3, 96, 96)]))
    with pytest.raises(ValueError, match='input_size'):
        gen(dict(img=np.zeros((224, 224, 3), np.uint8)))
    with pytest.raises(TypeError, match='tensors'):
        gen(dict(img=['a', 'b']))
    with pytest.raises(ValueError, match='input_size'):
        iBOTBlockMaskGenerator(input_size=96)(dict(img=_views()))
