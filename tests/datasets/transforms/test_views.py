"""Multi-view transforms: LoadViews, ApplyToViews, two-source iBOTMultiCrop.
"""
import re

import cv2
import numpy as np
import pytest
import torch
import torchvision.transforms.v2.functional as TF
from mmcv.transforms import Compose
from mmengine.dataset import default_collate
from torchvision.transforms import InterpolationMode

from mmequi.datasets.transforms import ApplyToViews, LoadViews, iBOTMultiCrop
from mmpretrain.registry import TRANSFORMS

from ._helpers import textured_bgr

SMALL = dict(global_size=32, local_size=16, num_local=3)


def _write(tmp_path, name, img):
    path = str(tmp_path / name)
    assert cv2.imwrite(path, img)
    return path


@pytest.fixture
def two_files(tmp_path):
    """Two PNGs of different sizes (lossless, so pixels can be compared)."""
    imgs = [textured_bgr(20, 30, seed=1), textured_bgr(24, 18, seed=2)]
    return [_write(tmp_path, f'v{k}.png', im) for k, im in enumerate(imgs)
            ], imgs


# -- LoadViews ----------------------------------------------------------------
def test_load_views_reads_every_path(two_files):
    paths, imgs = two_files
    t = TRANSFORMS.build(dict(type='LoadViews'))
    assert isinstance(t, LoadViews)
    out = t(dict(img_path=list(paths)))
    assert isinstance(out['img'], list) and len(out['img']) == 2
    for got, want in zip(out['img'], imgs):
        assert got.dtype == np.uint8
        np.testing.assert_array_equal(got, want)  # BGR, as cv2.imread
    assert out['img_shape'] == (20, 30) and out['ori_shape'] == (20, 30)
    assert out['img_path'] == paths


def test_load_views_options(two_files):
    paths, imgs = two_files
    out = LoadViews(to_float32=True)(dict(img_path=paths))
    assert all(im.dtype == np.float32 for im in out['img'])
    np.testing.assert_array_equal(out['img'][1], imgs[1].astype(np.float32))
    gray = LoadViews(color_type='grayscale')(dict(img_path=paths))
    assert gray['img'][0].shape == (20, 30)
    np.testing.assert_array_equal(
        gray['img'][0], cv2.imread(paths[0], cv2.IMREAD_GRAYSCALE))
    one = LoadViews()(dict(img_path=paths[1]))  # a single str
    assert len(one['img']) == 1 and one['img_shape'] == (24, 18)
    assert 'LoadViews(to_float32=False' in repr(LoadViews())


def test_load_views_errors_name_the_file(tmp_path, two_files):
    paths, _ = two_files
    missing = str(tmp_path / 'nope.jpg')
    with pytest.raises(FileNotFoundError,
                       match='view 1 not found: ' + re.escape(missing)):
        LoadViews()(dict(img_path=[paths[0], missing]))
    broken = tmp_path / 'broken.jpg'
    broken.write_bytes(b'this is not a jpeg')
    with pytest.raises(ValueError, match='cannot decode image file of view '
                       '0 ' + re.escape(str(broken))):
        LoadViews()(dict(img_path=[str(broken), paths[0]]))
    with pytest.raises(TypeError, match='non-empty list of str'):
        LoadViews()(dict(img_path=[]))
    with pytest.raises(KeyError, match='img_path'):
        LoadViews()(dict())


# -- ApplyToViews -------------------------------------------------------------
def test_apply_to_views_resizes_each_view(two_files):
    paths, imgs = two_files
    pipeline = Compose([
        TRANSFORMS.build(dict(type='LoadViews')),
        TRANSFORMS.build(dict(type='ApplyToViews', transforms=[
            dict(type='Resize', scale=(10, 6))])),
    ])
    out = pipeline(dict(img_path=paths))
    assert [im.shape for im in out['img']] == [(6, 10, 3)] * 2
    for got, src in zip(out['img'], imgs):
        np.testing.assert_array_equal(
            got, cv2.resize(src, (10, 6), interpolation=cv2.INTER_LINEAR))
    # keys of the first view's results
    assert out['img_shape'] == (6, 10) and out['ori_shape'] == (20, 30)
    np.testing.assert_allclose(out['scale_factor'], (10 / 30, 6 / 20))
    assert 'Resize' in repr(pipeline.transforms[1])


def test_apply_to_views_draws_per_view():
    """The same image twice through a random crop: different crops, and
    the sequence of draws is that of running the views one after another.
    """
    img = textured_bgr(40, 40, seed=3)
    cfg = [dict(type='RandomResizedCrop', scale=16, crop_ratio_range=(
        0.05, 0.3))]
    t = ApplyToViews(cfg)
    np.random.seed(0)
    out = t(dict(img=[img, img], img_shape=(40, 40)))
    assert out['img'][0].shape == out['img'][1].shape == (16, 16, 3)
    assert not np.array_equal(out['img'][0], out['img'][1])
    single = Compose([TRANSFORMS.build(c) for c in cfg])
    np.random.seed(0)
    ref = [single(dict(img=img, img_shape=(40, 40)))['img']
           for _ in range(2)]
    for got, want in zip(out['img'], ref):
        np.testing.assert_array_equal(got, want)


def test_apply_to_views_errors():
    img = np.zeros((8, 8, 3), np.uint8)
    calls = []

    def drop_second_view(results):
        calls.append(results['img'])
        return None if len(calls) == 2 else results

    with pytest.raises(RuntimeError, match='dropped view 1'):
        ApplyToViews([drop_second_view])(dict(img=[img, img]))
    with pytest.raises(TypeError, match='non-empty list of images'):
        ApplyToViews([])(dict(img=img))
    with pytest.raises(TypeError, match='list of transforms'):
        ApplyToViews(dict(type='Resize', scale=4))


def test_pack_inputs_and_collate_give_a_list_of_batched_views(two_files):
    paths, _ = two_files
    pipeline = Compose([
        TRANSFORMS.build(c) for c in [
            dict(type='LoadViews'),
            dict(type='ApplyToViews', transforms=[
                dict(type='Resize', scale=(8, 8))]),
            dict(type='PackInputs', algorithm_keys=['rot_quat']),
        ]
    ])
    samples = [
        pipeline(dict(img_path=paths, gt_label=k,
                      rot_quat=np.full(4, k, np.float32)))
        for k in range(3)
    ]
    packed = samples[0]['inputs']
    assert isinstance(packed, list) and len(packed) == 2
    assert all(isinstance(x, torch.Tensor) and x.shape == (3, 8, 8)
               for x in packed)
    batch = default_collate(samples)
    assert isinstance(batch['inputs'], list) and len(batch['inputs']) == 2
    for v, view in enumerate(batch['inputs']):
        assert tuple(view.shape) == (3, 3, 8, 8)
        np.testing.assert_array_equal(
            view[1].permute(1, 2, 0).numpy(),
            cv2.resize(cv2.imread(paths[v]), (8, 8)))
    labels = [int(s.gt_label) for s in batch['data_samples']]
    assert labels == [0, 1, 2]
    np.testing.assert_array_equal(batch['data_samples'][2].rot_quat,
                                  np.full(4, 2, np.float32))


# -- iBOTMultiCrop with two source images -------------------------------------
def test_multi_crop_two_sources_black_and_white():
    black = np.zeros((30, 40, 3), np.uint8)
    white = np.full((36, 28, 3), 255, np.uint8)
    expected = [0, 1, 0, 1, 0]  # global 1, global 2, locals j mod 2
    np.random.seed(0)
    out = iBOTMultiCrop(**SMALL, photometric=False)(
        dict(img=[black, white]))
    assert out['view_sources'] == tuple(expected)
    for view, src in zip(out['img'], expected):
        assert (view == (255 if src else 0)).all()
    # with the photometric ops black stays black (brightness/contrast/hue/
    # gray/blur keep 0, solarize only inverts >= 128); white stays bright
    # unless solarized
    t = iBOTMultiCrop(**SMALL, record_ops=True)
    np.random.seed(1)
    for _ in range(20):
        out = t(dict(img=[black, white]))
        for view, src, rec in zip(out['img'], expected, out['aug_record']):
            if src == 0:
                assert (view == 0).all()
            elif not rec['solarize']:
                assert view.float().mean() > 100


def _recrop(src_bgr, params, size):
    rgb = torch.from_numpy(np.ascontiguousarray(src_bgr[..., ::-1])).permute(
        2, 0, 1)
    x0, y0, w, h, flipped = (int(v) for v in params)
    out = TF.resize(rgb[:, y0:y0 + h, x0:x0 + w], [size, size],
                    interpolation=InterpolationMode.BICUBIC, antialias=True)
    return TF.horizontal_flip(out) if flipped else out


def test_multi_crop_two_sources_crop_params_in_own_source():
    """Sources of different sizes: every box lies in its own source and
    re-cropping that source reproduces the view."""
    srcs = [textured_bgr(50, 70, seed=5), textured_bgr(90, 40, seed=6)]
    t = iBOTMultiCrop(**SMALL, photometric=False)
    np.random.seed(2)
    for _ in range(10):
        out = t(dict(img=list(srcs)))
        for view, p, k in zip(out['img'], out['crop_params'],
                              out['view_sources']):
            x0, y0, w, h, _ = p
            height, width = srcs[k].shape[:2]
            assert 0 <= x0 and x0 + w <= width
            assert 0 <= y0 and y0 + h <= height
            assert torch.equal(view, _recrop(srcs[k], p, view.shape[-1]))


@pytest.mark.parametrize('photometric', [False, True])
def test_multi_crop_same_random_numbers_as_one_image(photometric):
    """Two copies of one image give exactly the single-image output for the
    same seed (views, crop params, records), and a list of one image is
    the image itself."""
    img = textured_bgr(48, 60, seed=7)
    t = iBOTMultiCrop(**SMALL, photometric=photometric, record_ops=True)
    outs = []
    for inp in (img, [img, img.copy()], [img]):
        np.random.seed(3)
        outs.append(t(dict(img=inp)))
        outs[-1]['state'] = np.random.get_state()[1].copy()
    ref = outs[0]
    assert 'view_sources' not in ref and 'view_sources' not in outs[2]
    for out in outs[1:]:
        assert all(torch.equal(a, b) for a, b in zip(out['img'], ref['img']))
        np.testing.assert_array_equal(out['crop_params'], ref['crop_params'])
        assert out['aug_record'] == ref['aug_record']
        np.testing.assert_array_equal(out['state'], ref['state'])


def test_multi_crop_rejects_other_lists():
    t = iBOTMultiCrop(**SMALL)
    img = np.zeros((20, 20, 3), np.uint8)
    with pytest.raises(ValueError, match='list of 3'):
        t(dict(img=[img] * 3))
    with pytest.raises(TypeError, match=r'results\["img"\]\[1\].*uint8'):
        t(dict(img=[img, img.astype(np.float32)]))
