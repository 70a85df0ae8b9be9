import math
import random

import numpy as np
import pytest
import torch
import torchvision.transforms.v2.functional as TF
from PIL import Image
from torchvision.transforms import InterpolationMode, RandomResizedCrop

from mmequi.datasets.transforms import iBOTMultiCrop
from mmequi.datasets.transforms import multi_crop as mc
from mmequi.datasets.transforms.photometric import blur_kernel_size
from mmpretrain.registry import TRANSFORMS

from ._helpers import assert_rate, naive_blur, rgb_tensor, textured_bgr

SMALL = dict(global_size=32, local_size=16, num_local=3)


def _recrop(src: torch.Tensor, params, size: int) -> torch.Tensor:
    """The view a crop box describes (before photometric ops)."""
    x0, y0, w, h, flipped = (int(v) for v in params)
    out = TF.resize(src[:, y0:y0 + h, x0:x0 + w], [size, size],
                    interpolation=InterpolationMode.BICUBIC, antialias=True)
    return TF.horizontal_flip(out) if flipped else out


# -- structure ---------------------------------------------------------------
@pytest.mark.parametrize('cfg, sizes', [
    (dict(), [224] * 2 + [96] * 10),
    (SMALL, [32, 32, 16, 16, 16]),
    (dict(global_size=48, local_size=24, num_local=0), [48, 48]),
])
def test_views_structure(cfg, sizes):
    np.random.seed(0)
    img = textured_bgr(375, 500)
    out = iBOTMultiCrop(**cfg)(dict(img=img, img_shape=(375, 500)))
    views = out['img']
    assert isinstance(views, list) and len(views) == len(sizes)
    for view, size in zip(views, sizes):
        assert isinstance(view, torch.Tensor)
        assert view.dtype == torch.uint8 and view.is_contiguous()
        assert tuple(view.shape) == (3, size, size)
    params = out['crop_params']
    assert params.dtype == np.float32 and params.shape == (len(sizes), 5)
    assert out['view_sizes'] == tuple(sizes)
    assert 'aug_record' not in out


@pytest.mark.parametrize('cfg', [dict(), SMALL])
@pytest.mark.parametrize('photometric', [False, True])
def test_channel_order_is_rgb(cfg, photometric):
    """Constant BGR image (10, 120, 240): without photometric ops every
    view is exactly (R, G, B) = (240, 120, 10); with them the red channel
    still dominates unless the view was turned gray."""
    img = np.empty((60, 80, 3), np.uint8)
    img[:] = (10, 120, 240)  # B, G, R
    np.random.seed(1)
    t = iBOTMultiCrop(**cfg, photometric=photometric, record_ops=True,
                      hue=0.0)
    for _ in range(3):
        out = t(dict(img=img.copy()))
        for view, rec in zip(out['img'], out['aug_record']):
            r, g, b = (view[c].float().mean().item() for c in range(3))
            if not photometric:
                assert (view[0] == 240).all() and (view[1] == 120).all()
                assert (view[2] == 10).all()
            elif not rec['gray']:
                assert r > g > b or rec['solarize']


def test_grayscale_input_is_replicated():
    np.random.seed(0)
    gray = textured_bgr(40, 50)[..., 0]
    for img in (gray, gray[..., None]):
        out = iBOTMultiCrop(**SMALL, photometric=False)(dict(img=img))
        for view in out['img']:
            assert torch.equal(view[0], view[1])
            assert torch.equal(view[0], view[2])


# -- geometry ----------------------------------------------------------------
def test_crop_params_reproduce_views_exactly():
    """photometric=False: re-cropping the original image with crop_params,
    resizing and flipping gives the view bit-exactly; an independent
    resampler (PIL bicubic on the cropped array) agrees to 1 grey level."""
    img = textured_bgr(123, 157, seed=3)
    rgb = np.ascontiguousarray(img[..., ::-1])
    src = rgb_tensor(img)
    t = iBOTMultiCrop(**SMALL, photometric=False)
    np.random.seed(0)
    flips = 0
    for _ in range(60):
        out = t(dict(img=img.copy()))
        for view, p in zip(out['img'], out['crop_params']):
            assert np.array_equal(p, np.round(p))  # integer pixels
            x0, y0, w, h, flipped = (int(v) for v in p)
            assert flipped in (0, 1)
            flips += flipped
            assert 0 <= x0 and 0 <= y0 and w > 0 and h > 0
            assert x0 + w <= 157 and y0 + h <= 123
            size = view.shape[-1]
            assert torch.equal(view, _recrop(src, p, size))
            pil = Image.fromarray(np.ascontiguousarray(
                rgb[y0:y0 + h, x0:x0 + w])).resize((size, size),
                                                   Image.BICUBIC)
            pil = np.asarray(pil)
            if flipped:
                pil = pil[:, ::-1]
            diff = np.abs(pil.astype(int) - view.permute(1, 2, 0).numpy())
            assert diff.max() <= 1
    assert_rate(flips, 60 * 5, 0.5)


def _is_fallback(top, left, h, w, height, width, ratio):
    in_ratio = width / height
    if in_ratio < ratio[0]:
        fw, fh = width, int(round(width / ratio[0]))
    elif in_ratio > ratio[1]:
        fw, fh = int(round(height * ratio[1])), height
    else:
        fw, fh = width, height
    return (h, w, top, left) == (fh, fw, (height - fh) // 2,
                                 (width - fw) // 2)


@pytest.mark.parametrize('height, width, scale', [
    (375, 500, (0.25, 1.0)),
    (375, 500, (0.05, 0.25)),
    (60, 200, (0.25, 1.0)),
])
def test_crop_box_statistics(height, width, scale):
    """Boxes lie inside the image, area fraction in ``scale`` and aspect in
    ``ratio`` (up to rounding w, h to pixels) unless they are the central
    fallback, and the distribution matches torchvision's get_params."""
    ratio = (3 / 4, 4 / 3)
    np.random.seed(0)
    n = 3000
    ours = np.array([
        mc.random_resized_crop_params(height, width, scale, ratio)
        for _ in range(n)
    ])
    area = height * width
    fallbacks = 0
    for top, left, h, w in ours:
        assert 0 <= top and top + h <= height and 0 <= left
        assert left + w <= width
        if _is_fallback(top, left, h, w, height, width, ratio):
            fallbacks += 1
            continue
        assert (w - .5) * (h - .5) <= scale[1] * area + 1e-9
        assert (w + .5) * (h + .5) >= scale[0] * area - 1e-9
        assert (w - .5) / (h + .5) <= ratio[1] + 1e-9
        assert (w + .5) / (h - .5) >= ratio[0] - 1e-9
    if width / height <= ratio[1]:
        assert fallbacks < 0.02 * n

    torch.manual_seed(0)
    dummy = torch.empty(3, height, width)
    ref = np.array([
        RandomResizedCrop.get_params(dummy, list(scale), list(ratio))
        for _ in range(n)
    ])
    ref_fallbacks = sum(
        _is_fallback(*box, height, width, ratio) for box in ref)
    p = max(ref_fallbacks / n, 1 / n)
    assert abs(fallbacks - ref_fallbacks) <= 6 * math.sqrt(2 * n * p *
                                                          (1 - p)) + 2
    for stat in (lambda b: b[:, 2] * b[:, 3] / area,
                 lambda b: np.log(b[:, 3] / b[:, 2]),
                 lambda b: (b[:, 1] + b[:, 3] / 2) / width,
                 lambda b: (b[:, 0] + b[:, 2] / 2) / height):
        a, b = stat(ours), stat(ref)
        se = math.sqrt(a.var() / n + b.var() / n)
        assert abs(a.mean() - b.mean()) <= 4 * se + 1e-12


def test_record_describes_the_views():
    """Rebuilding every view from crop_params and aug_record with
    torchvision's reference kernels (a naive numpy blur) gives the view (to
    2 grey levels: the kernels differ by float rounding only)."""
    img = textured_bgr(90, 110, seed=11)
    src = rgb_tensor(img)
    t = iBOTMultiCrop(**SMALL, record_ops=True)
    np.random.seed(3)
    diffs = []
    for _ in range(30):
        out = t(dict(img=img.copy()))
        for view, p, rec in zip(out['img'], out['crop_params'],
                                out['aug_record']):
            ref = _recrop(src, p, view.shape[-1])
            assert rec['flip'] == bool(p[4])
            if rec['jitter']:
                assert sorted(rec['jitter_order']) == sorted(
                    ['brightness', 'contrast', 'saturation', 'hue'])
                for op in rec['jitter_order']:
                    ref = getattr(TF, f'adjust_{op}')(ref, rec[op])
            if rec['gray']:
                ref = TF.rgb_to_grayscale(ref, 3)
            if rec['blur']:  # independent of torch's conv (and faster)
                assert rec['blur_kernel'] == blur_kernel_size(
                    rec['blur_sigma'])
                ref = torch.from_numpy(
                    naive_blur(ref.permute(1, 2, 0).numpy(),
                               rec['blur_sigma'])).to(torch.uint8).permute(
                                   2, 0, 1)
            if rec['solarize']:
                ref = TF.solarize(ref, 128)
            diff = (view.int() - ref.int()).abs()
            diffs.append(diff.float().mean().item())
            assert diff.max() <= 2
    assert np.mean(diffs) < 0.02


def _draws(t, img, n):
    records = []
    for _ in range(n):
        records.append(t(dict(img=img.copy()))['aug_record'])
    return records


def test_op_probabilities_per_crop_kind():
    img = textured_bgr(48, 64, seed=2)
    t = iBOTMultiCrop(**SMALL, record_ops=True)
    np.random.seed(0)
    n = 1000
    recs = _draws(t, img, n)
    by_kind = {
        'global1': [r[0] for r in recs],
        'global2': [r[1] for r in recs],
        'local': [v for r in recs for v in r[2:]],
    }
    assert [r['kind'] for r in recs[0]] == ['global1', 'global2'] + \
        ['local'] * 3
    for kind, blur_p, sol_p in (('global1', 1.0, 0.0), ('global2', 0.1, 0.2),
                                ('local', 0.5, 0.0)):
        rs = by_kind[kind]
        assert_rate(sum(r['blur'] for r in rs), len(rs), blur_p)
        assert_rate(sum(r['solarize'] for r in rs), len(rs), sol_p)
        assert_rate(sum(r['gray'] for r in rs), len(rs), 0.2)
        assert_rate(sum(r['jitter'] for r in rs), len(rs), 0.8)
        assert_rate(sum(r['flip'] for r in rs), len(rs), 0.5)
    allrecs = [v for r in recs for v in r]
    jit = [r for r in allrecs if r['jitter']]
    for name, lo, hi in (('brightness', 0.6, 1.4), ('contrast', 0.6, 1.4),
                         ('saturation', 0.8, 1.2), ('hue', -0.1, 0.1)):
        vals = np.array([r[name] for r in jit])
        assert vals.min() >= lo and vals.max() <= hi
        # uniform: mean and spread
        assert abs(vals.mean() - (lo + hi) / 2) < 0.02 * (hi - lo)
        assert abs(vals.std() - (hi - lo) / math.sqrt(12)) < 0.03 * (hi - lo)
    first = [r['jitter_order'][0] for r in jit]
    for name in ('brightness', 'contrast', 'saturation', 'hue'):
        assert_rate(first.count(name), len(first), 0.25)
    assert all(r['jitter_order'] is None for r in allrecs
               if not r['jitter'])
    sigmas = np.array([r['blur_sigma'] for r in allrecs if r['blur']])
    assert sigmas.min() >= 0.1 and sigmas.max() <= 2.0
    assert abs(sigmas.mean() - 1.05) < 0.03
    assert all(r['blur_kernel'] == 2 * math.ceil(3 * r['blur_sigma']) + 1
               for r in allrecs if r['blur'])
    assert all(r['blur_sigma'] is None for r in allrecs if not r['blur'])


def test_blur_sigma_is_drawn_per_call():
    img = textured_bgr(48, 64)
    t = iBOTMultiCrop(**SMALL, record_ops=True)
    np.random.seed(0)
    a = t(dict(img=img.copy()))['aug_record'][0]['blur_sigma']
    b = t(dict(img=img.copy()))['aug_record'][0]['blur_sigma']
    assert a is not None and b is not None and a != b
    assert 0.1 <= a <= 2.0 and 0.1 <= b <= 2.0


def _count_views(t, img, n, pred):
    """How often ``pred(view)`` holds, per crop kind."""
    counts = np.zeros(3, int)
    totals = np.zeros(3, int)
    for _ in range(n):
        for i, view in enumerate(t(dict(img=img.copy()))['img']):
            kind = min(i, 2)
            totals[kind] += 1
            counts[kind] += bool(pred(view))
    return counts, totals


def test_rates_measured_on_constant_images():
    """Rates read off the pixels (no instrumentation)."""
    off = dict(jitter_prob=0.0, gray_prob=0.0, blur_probs=(0.0, 0.0, 0.0),
               solarize_probs=(0.0, 0.0, 0.0))
    np.random.seed(123)
    # solarize: value 200 -> 55, global view 2 only, p = 0.2
    img = np.full((20, 24, 3), 200, np.uint8)
    t = iBOTMultiCrop(**SMALL, **{**off, 'solarize_probs': (0.0, 0.2, 0.0)})
    counts, totals = _count_views(t, img, 600, lambda v: (v == 55).all())
    assert counts[0] == 0 and counts[2] == 0
    assert_rate(counts[1], totals[1], 0.2)
    # grayscale: BGR (30, 120, 200) -> floor(.2989 R + .587 G + .114 B)
    img = np.empty((20, 24, 3), np.uint8)
    img[:] = (30, 120, 200)
    t = iBOTMultiCrop(**SMALL, **{**off, 'gray_prob': 0.2})
    counts, totals = _count_views(t, img, 300, lambda v: (v == 133).all())
    assert_rate(counts.sum(), totals.sum(), 0.2)
    # brightness-only jitter on gray 100: unchanged iff factor in [1, 1.01)
    img = np.full((20, 24, 3), 100, np.uint8)
    t = iBOTMultiCrop(**SMALL, **{**off, 'jitter_prob': 0.8},
                      contrast=0.0, saturation=0.0, hue=0.0)
    counts, totals = _count_views(t, img, 300, lambda v: (v != 100).any())
    assert_rate(counts.sum(), totals.sum(), 0.8 * (1 - 0.01 / 0.8))


def test_photometric_false_draws_only_geometry():
    img = textured_bgr(40, 50)
    t = iBOTMultiCrop(**SMALL, photometric=False, record_ops=True)
    np.random.seed(0)
    out = t(dict(img=img.copy()))
    state = np.random.get_state()
    # replay: only crop boxes and flips consume numpy's generator
    np.random.seed(0)
    for i in range(5):
        size, scale = ((32, t.global_scale) if i < 2 else
                       (16, t.local_scale))
        top, left, h, w = mc.random_resized_crop_params(40, 50, scale,
                                                        t.ratio)
        flipped = np.random.rand() < 0.5
        assert tuple(out['crop_params'][i]) == (left, top, w, h, flipped)
        assert set(out['aug_record'][i]) == {'kind', 'flip'}
    assert np.array_equal(np.random.get_state()[1], state[1])


def test_randomness_comes_from_numpy_global_generator():
    img = textured_bgr(40, 50)
    t = iBOTMultiCrop(**SMALL)
    torch_state = torch.get_rng_state()
    py_state = random.getstate()
    np.random.seed(7)
    a = t(dict(img=img.copy()))
    np.random.seed(7)
    b = t(dict(img=img.copy()))
    c = t(dict(img=img.copy()))
    assert all(torch.equal(x, y) for x, y in zip(a['img'], b['img']))
    assert np.array_equal(a['crop_params'], b['crop_params'])
    assert not np.array_equal(a['crop_params'], c['crop_params'])
    assert torch.equal(torch.get_rng_state(), torch_state)
    assert random.getstate() == py_state


# -- construction ------------------------------------------------------------
def test_registry_and_repr():
    t = TRANSFORMS.build(dict(type='iBOTMultiCrop', num_local=4))
    assert isinstance(t, iBOTMultiCrop) and t.num_views == 6
    text = repr(t)
    for part in ('global_size=224', 'local_size=96', 'num_local=4',
                 'global_scale=(0.25, 1.0)', 'local_scale=(0.05, 0.25)',
                 'blur_probs=(1.0, 0.1, 0.5)',
                 'solarize_probs=(0.0, 0.2, 0.0)', 'gray_prob=0.2',
                 'jitter_prob=0.8', 'photometric=True'):
        assert part in text


@pytest.mark.parametrize('kwargs, match', [
    (dict(global_size=0), 'global_size'),
    (dict(global_size=2.5), 'global_size'),
    (dict(local_size=True), 'local_size'),
    (dict(num_local=-1), 'num_local'),
    (dict(global_scale=(0.0, 0.5)), 'global_scale'),
    (dict(global_scale=(0.6, 0.5)), 'global_scale'),
    (dict(local_scale=(0.1, 1.5)), 'local_scale'),
    (dict(local_scale=0.3), 'local_scale'),
    (dict(ratio=(0.0, 1.0)), 'ratio'),
    (dict(flip_prob=1.5), 'flip_prob'),
    (dict(jitter_prob=-0.1), 'jitter_prob'),
    (dict(gray_prob='0.2'), 'gray_prob'),
    (dict(blur_probs=(1.0, 0.1)), 'blur_probs'),
    (dict(blur_probs=(1.0, 0.1, 2.0)), r'blur_probs\[2\]'),
    (dict(solarize_probs=(0.0, -0.2, 0.0)), r'solarize_probs\[1\]'),
    (dict(blur_sigma=(0.0, 2.0)), 'blur_sigma'),
    (dict(hue=0.6), 'hue'),
    (dict(brightness=-0.1), 'brightness'),
    (dict(interpolation='nearest'), 'interpolation'),
    (dict(solarize_threshold=300), 'solarize_threshold'),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        iBOTMultiCrop(**kwargs)


def test_bad_inputs():
    t = iBOTMultiCrop(**SMALL)
    with pytest.raises(TypeError, match='uint8'):
        t(dict(img=np.zeros((20, 20, 3), np.float32)))
    with pytest.raises(TypeError, match='uint8'):
        t(dict(img=torch.zeros(3, 20, 20, dtype=torch.uint8)))
    with pytest.raises(ValueError, match='shape'):
        t(dict(img=np.zeros((20, 20, 4), np.uint8)))


def test_views_equal_the_plain_float_path():
    """The fast path (resize straight from BGR, uint8 colour ops, cv2
    layout conversions) gives exactly the pixels of the plain one: an RGB
    copy of the image resized with torchvision's resized_crop, flipped,
    then the recorded colour ops on float32 arrays."""
    from mmequi.datasets.transforms import photometric as P
    for seed, shape in enumerate(((90, 110), (123, 61))):
        img = textured_bgr(*shape, seed=seed)
        src = rgb_tensor(img)
        t = iBOTMultiCrop(**SMALL, record_ops=True)
        np.random.seed(seed)
        for _ in range(12):
            out = t(dict(img=img.copy()))
            for view, p, rec in zip(out['img'], out['crop_params'],
                                    out['aug_record']):
                x = _recrop(src, p, view.shape[-1]).permute(
                    1, 2, 0).numpy().astype(np.float32)
                if rec['jitter']:
                    for op in rec['jitter_order']:
                        x = getattr(P, f'adjust_{op}')(x, rec[op])
                if rec['gray']:
                    x = P.rgb_to_grayscale(x)
                if rec['blur']:
                    x = P.gaussian_blur(x, rec['blur_sigma'])
                if rec['solarize']:
                    x = P.solarize(x, 128)
                ref = torch.from_numpy(x.astype(np.uint8)).permute(2, 0, 1)
                assert view.is_contiguous()
                assert torch.equal(view, ref), (seed, rec)
