"""3DIEBench dataset and its targets (SIE, Garrido et al., ICML 2023)."""
import math
import os
import os.path as osp
import random
import re

import cv2
import numpy as np
import pytest
import torch
from mmengine.dataset import default_collate
from scipy.spatial.transform import Rotation

from mmequi.datasets import (ThreeDIEBench, color_difference,
                             euler_to_quaternion,
                             relative_rotation_quaternion)
from mmequi.datasets import three_die_bench as tdb
from mmpretrain.registry import DATASETS
from mmpretrain.structures import DataSample

# Label order deliberately differs from the sorted synset order.
SYNSETS = ('03001627', '02691156', '04379243')
NUM_VIEWS = 4


def write_fixture(root, objects_per_class=2, num_views=NUM_VIEWS, size=16,
                  seed=0, val_per_class=1):
    """The real on-disk layout in miniature: ``ROOT/<synset>/<object>/
    image_{i}.jpg`` + ``latent_{i}.npy`` and the four split files.

    Returns ``{split: [(object path as in the split file, label), ...]}``.
    """
    rng = np.random.default_rng(seed)
    splits = {'train': [], 'val': []}
    for label, syn in enumerate(SYNSETS):
        for split, n in (('train', objects_per_class),
                         ('val', val_per_class)):
            for _ in range(n):
                obj = ''.join(rng.choice(list('0123456789abcdef'), 31))
                folder = osp.join(root, syn, obj)
                os.makedirs(folder)
                for i in range(num_views):
                    img = rng.integers(0, 256, (size, size, 3), np.uint8)
                    assert cv2.imwrite(osp.join(folder, f'image_{i}.jpg'),
                                       img)
                    latent = np.concatenate([
                        rng.uniform(-math.pi / 2, math.pi / 2, 3),
                        rng.uniform(0, 1, 1),
                        rng.uniform(0, math.pi, 2),
                        rng.uniform(0, 1, 1)
                    ])
                    np.save(osp.join(folder, f'latent_{i}.npy'), latent)
                splits[split].append((f'/{syn}/{obj}/', label))
    for split, rows in splits.items():
        np.save(osp.join(root, f'{split}_images.npy'),
                np.array([p for p, _ in rows]))
        np.save(osp.join(root, f'{split}_labels.npy'),
                np.array([lab for _, lab in rows], dtype=np.int64))
    return splits


@pytest.fixture(scope='module')
def bench(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('3diebench'))
    return root, write_fixture(root)


@pytest.fixture
def fresh(tmp_path):
    """A fixture of one's own, to corrupt."""
    root = str(tmp_path / 'root')
    return root, write_fixture(root, objects_per_class=1, val_per_class=1)


def make(root, **kwargs) -> ThreeDIEBench:
    """The dataset without mmengine's serialisation (whose gc.collect()
    costs ~0.7 s per instance in a process holding torch); the default
    serialised path is exercised by the DATASETS.build and determinism
    tests."""
    return ThreeDIEBench(root, **{'serialize_data': False, **kwargs})


def _latent(root, object_path, view):
    return np.load(osp.join(root, object_path.strip('/'),
                            f'latent_{view}.npy'))


# -- targets ------------------------------------------------------------------
def _canonical(q):
    q = np.array(q, dtype=np.float64)
    return np.where((q[..., 3:] < 0), -q, q)


def _random_latents(rng, n):
    lat = rng.uniform(0, 1, (n, 7))
    lat[:, :3] = rng.uniform(-math.pi / 2, math.pi / 2, (n, 3))
    return lat


def test_euler_to_quaternion_is_extrinsic_xyz():
    rng = np.random.default_rng(0)
    ang = rng.uniform(-math.pi / 2, math.pi / 2, (500, 3))
    ours = euler_to_quaternion(ang)
    ref = Rotation.from_euler('xyz', ang).as_quat()
    np.testing.assert_allclose(_canonical(ours), _canonical(ref),
                               atol=1e-12)
    # not the intrinsic convention (which composes in the other order)
    intrinsic = Rotation.from_euler('XYZ', ang).as_quat()
    assert np.abs(_canonical(ours) - _canonical(intrinsic)).max() > 0.1
    # extra latent entries are ignored
    lat = np.concatenate([ang, rng.uniform(size=(500, 4))], axis=1)
    np.testing.assert_array_equal(euler_to_quaternion(lat), ours)


def test_relative_rotation_matches_scipy():
    rng = np.random.default_rng(1)
    l1, l2 = _random_latents(rng, 2000), _random_latents(rng, 2000)
    ours = relative_rotation_quaternion(l1, l2)
    rel = (Rotation.from_euler('xyz', l1[:, :3]).inv() *
           Rotation.from_euler('xyz', l2[:, :3]))
    assert ours.shape == (2000, 4) and ours.dtype == np.float64
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0,
                               atol=1e-12)
    assert (ours[:, 3] >= 0).all()
    ref = _canonical(rel.as_quat())
    np.testing.assert_allclose(ours, ref, atol=1e-10)
    # and the same rotation matrices
    np.testing.assert_allclose(Rotation.from_quat(ours).as_matrix(),
                               rel.as_matrix(), atol=1e-10)
    # R1^-1 R2, not R2^-1 R1 (the inverse has the opposite vector part)
    swapped = relative_rotation_quaternion(l2, l1)
    np.testing.assert_allclose(swapped[:, :3], -ours[:, :3], atol=1e-10)


def test_relative_rotation_near_180_degrees():
    """Relative rotations within 1e-3 rad of 180 degrees, and exactly 180
    (x by -pi/2 then +pi/2): still the right rotation with w >= 0."""
    rng = np.random.default_rng(2)
    n = 300
    r1 = Rotation.from_euler('xyz', rng.uniform(-1.5, 1.5, (n, 3)))
    axis = rng.normal(size=(n, 3))
    axis /= np.linalg.norm(axis, axis=1, keepdims=True)
    angle = math.pi - rng.uniform(0, 1e-3, n)
    angle[:50] = math.pi
    rel = Rotation.from_rotvec(axis * angle[:, None])
    r2 = r1 * rel
    l1, l2 = r1.as_euler('xyz'), r2.as_euler('xyz')
    ours = relative_rotation_quaternion(l1, l2)
    assert (ours[:, 3] >= 0).all()
    np.testing.assert_allclose(Rotation.from_quat(ours).as_matrix(),
                               rel.as_matrix(), atol=1e-9)
    ref = _canonical(rel.as_quat())
    clear = ref[:, 3] > 1e-9  # elsewhere rounding decides the sign
    np.testing.assert_allclose(ours[clear], ref[clear], atol=1e-9)
    assert clear.sum() > 100
    q = relative_rotation_quaternion([-math.pi / 2, 0, 0],
                                     [math.pi / 2, 0, 0])
    np.testing.assert_allclose(q, [1, 0, 0, 0], atol=1e-12)
    assert q[0] > 0 and q[3] >= 0


def test_canonical_sign_rule():
    q = np.array([[0.1, 0.2, 0.3, -0.9], [0.1, 0.2, 0.3, 0.9],
                  [-1, 0, 0, 0], [0, -0.6, 0.8, 0], [0, 0, -1, 0],
                  [0.6, -0.8, 0, 0], [0, 0, 0, -1]], dtype=np.float64)
    want = np.array([[-0.1, -0.2, -0.3, 0.9], [0.1, 0.2, 0.3, 0.9],
                     [1, 0, 0, 0], [0, 0.6, -0.8, 0], [0, 0, 1, 0],
                     [0.6, -0.8, 0, 0], [0, 0, 0, 1]])
    np.testing.assert_array_equal(tdb.canonicalize_quaternion(q), want)
    # identity pairs: (0, 0, 0, 1)
    lat = _random_latents(np.random.default_rng(3), 5)
    np.testing.assert_allclose(relative_rotation_quaternion(lat, lat),
                               np.tile([0, 0, 0, 1.0], (5, 1)), atol=1e-12)


def test_color_difference_by_hand():
    l1 = [0.1, 0.2, 0.3, 0.25, 1.0, 2.0, 0.75]
    l2 = [-0.4, 0.5, 0.6, 0.60, 0.5, 0.1, 0.125]
    np.testing.assert_allclose(color_difference(l1, l2), [0.35, -0.625],
                               atol=1e-15)
    np.testing.assert_allclose(color_difference(l2, l1), [-0.35, 0.625],
                               atol=1e-15)
    with pytest.raises(ValueError, match='7'):
        color_difference([0.0] * 6, [0.0] * 6)


def test_targets_batched_equal_per_sample():
    rng = np.random.default_rng(4)
    l1 = _random_latents(rng, 12).reshape(3, 4, 7)
    l2 = _random_latents(rng, 12).reshape(3, 4, 7)
    q = relative_rotation_quaternion(l1, l2)
    c = color_difference(l1, l2)
    assert q.shape == (3, 4, 4) and c.shape == (3, 4, 2)
    for a in range(3):
        for b in range(4):
            np.testing.assert_array_equal(
                q[a, b], relative_rotation_quaternion(l1[a, b], l2[a, b]))
            np.testing.assert_array_equal(
                c[a, b], color_difference(l1[a, b], l2[a, b]))
    # broadcasting one latent against a batch
    qb = relative_rotation_quaternion(l1[0, 0], l2[0])
    for b in range(4):
        np.testing.assert_allclose(
            qb[b], relative_rotation_quaternion(l1[0, 0], l2[0, b]),
            atol=1e-15)


# -- dataset: entries and determinism ----------------------------------------
def test_entry_counts_per_mode(bench):
    root, splits = bench
    n = len(splits['train'])
    assert n == 6
    cases = [
        (dict(mode='pretrain'), n),
        (dict(mode='pretrain', pairs_per_object=3), 3 * n),
        (dict(mode='pair', pairs_per_object=2), 2 * n),
        (dict(mode='single'), NUM_VIEWS * n),
        (dict(mode='single', views_per_object=2), 2 * n),
    ]
    for kwargs, length in cases:
        ds = make(root, num_views=NUM_VIEWS, **kwargs)
        assert len(ds) == length, kwargs
        assert ds.num_objects == n
    val = make(root, split='val', mode='pair', num_views=NUM_VIEWS)
    assert len(val) == len(splits['val']) == 3


def test_labels_classes_and_object_paths(bench):
    root, splits = bench
    ds = make(root, mode='pair', num_views=NUM_VIEWS,
                       pairs_per_object=2)
    assert ds.metainfo['classes'] == SYNSETS
    assert ds.CLASSES == SYNSETS
    for k in range(len(ds)):
        path, label = splits['train'][k // 2]
        info = ds.get_data_info(k)
        assert info['object_path'] == path.strip('/')
        assert info['gt_label'] == label
        assert info['object_index'] == k // 2
        assert info['sample_idx'] == k
        assert info['object_path'].split('/')[0] == SYNSETS[label]
    np.testing.assert_array_equal(
        ds.get_gt_labels(), np.repeat([lab for _, lab in splits['train']],
                                      2))
    assert ds.get_cat_ids(3) == [splits['train'][1][1]]
    named = make(root, mode='single', num_views=NUM_VIEWS,
                          classes=['chair', 'plane', 'table'])
    assert named.CLASSES == ('chair', 'plane', 'table')


def test_fixed_pairs_are_deterministic(bench):
    root, _ = bench
    kw = dict(mode='pair', num_views=NUM_VIEWS, pairs_per_object=4)
    a = ThreeDIEBench(root, **kw)  # serialised (the default)
    b = make(root, lazy_init=True, **kw)
    c = make(root, seed=1, **kw)
    pairs = [a.get_data_info(k)['view_ids'] for k in range(len(a))]
    assert all(i != j and 0 <= i < NUM_VIEWS and 0 <= j < NUM_VIEWS
               for i, j in pairs)
    np.random.seed(123)  # the global generator plays no role
    assert [b.get_data_info(k)['view_ids'] for k in range(len(b))] == pairs
    assert [c.get_data_info(k)['view_ids'] for k in range(len(c))] != pairs
    # access neither draws from nor depends on np.random
    s1 = a.get_sample_info(5)
    np.random.seed(7)
    state = np.random.get_state()[1].copy()
    s2 = a.get_sample_info(5)
    np.testing.assert_array_equal(np.random.get_state()[1], state)
    assert s1['view_ids'] == s2['view_ids'] == pairs[5]
    assert s1['img_path'] == s2['img_path']


def test_pretrain_draws_distinct_views_per_access(bench):
    root, _ = bench
    ds = make(root, mode='pretrain', num_views=NUM_VIEWS)
    np.random.seed(0)
    first = [ds.get_sample_info(k)['view_ids'] for k in range(len(ds))]
    np.random.seed(0)
    again = [ds.get_sample_info(k)['view_ids'] for k in range(len(ds))]
    np.random.seed(1)
    other = [ds.get_sample_info(k)['view_ids'] for k in range(len(ds))]
    assert first == again and first != other
    assert 'view_ids' not in ds.get_data_info(0)  # drawn per access only
    seen = set()
    for _ in range(200):
        i, j = ds.get_sample_info(0)['view_ids']
        assert i != j
        seen.add((i, j))
    assert len(seen) == NUM_VIEWS * (NUM_VIEWS - 1)  # all ordered pairs


def test_single_mode_view_subsets(bench):
    root, _ = bench
    full = make(root, mode='single', num_views=NUM_VIEWS)
    assert [full.get_data_info(k)['view_id'] for k in range(NUM_VIEWS)] == \
        list(range(NUM_VIEWS))
    kw = dict(mode='single', num_views=NUM_VIEWS, views_per_object=2)
    a, b = make(root, **kw), make(root, **kw)
    views = [a.get_data_info(k)['view_id'] for k in range(len(a))]
    assert views == [b.get_data_info(k)['view_id'] for k in range(len(b))]
    for o in range(a.num_objects):
        pair = views[2 * o:2 * o + 2]
        assert pair[0] < pair[1] and 0 <= pair[0] and pair[1] < NUM_VIEWS
    subsets = {tuple(views[2 * o:2 * o + 2]) for o in range(6)}
    assert len(subsets) > 1  # not the same subset for every object


def test_sample_contents_match_files(bench):
    root, splits = bench
    ds = make(root, mode='pair', num_views=NUM_VIEWS,
                       pairs_per_object=3)
    for k in range(len(ds)):
        s = ds.get_sample_info(k)
        path, label = splits['train'][k // 3]
        i, j = s['view_ids']
        obj = osp.join(root, path.strip('/'))
        assert s['img_path'] == [osp.join(obj, f'image_{i}.jpg'),
                                 osp.join(obj, f'image_{j}.jpg')]
        l1, l2 = _latent(root, path, i), _latent(root, path, j)
        assert s['latent'].dtype == np.float32
        assert s['latent'].shape == (2, 7)
        np.testing.assert_array_equal(s['latent'],
                                      np.stack([l1, l2]).astype(np.float32))
        assert s['rot_quat'].dtype == np.float32
        assert s['rot_quat'].shape == (4,)
        np.testing.assert_array_equal(
            s['rot_quat'],
            relative_rotation_quaternion(l1, l2).astype(np.float32))
        assert s['color_diff'].shape == (2,)
        np.testing.assert_array_equal(
            s['color_diff'], color_difference(l1, l2).astype(np.float32))
        assert s['gt_label'] == label
        assert s['object_path'] == path.strip('/')
    single = make(root, mode='single', num_views=NUM_VIEWS)
    s = single.get_sample_info(NUM_VIEWS + 2)
    path, label = splits['train'][1]
    assert s['view_id'] == 2 and s['gt_label'] == label
    assert s['img_path'] == osp.join(root, path.strip('/'), 'image_2.jpg')
    np.testing.assert_array_equal(
        s['latent'], _latent(root, path, 2).astype(np.float32))
    assert s['latent'].shape == (7,)


def test_pair_pipeline_through_default_collate(bench):
    root, splits = bench
    pipeline = [
        dict(type='LoadViews'),
        dict(type='ApplyToViews', transforms=[
            dict(type='Resize', scale=(8, 12))]),
        dict(type='PackInputs', algorithm_keys=['rot_quat', 'color_diff',
                                                'view_ids']),
    ]
    ds = DATASETS.build(
        dict(type='ThreeDIEBench', data_root=root, split='train',
             mode='pair', num_views=NUM_VIEWS, pipeline=pipeline,
             test_mode=True))
    assert isinstance(ds, ThreeDIEBench)
    batch = default_collate([ds[k] for k in range(3)])
    inputs = batch['inputs']
    assert isinstance(inputs, list) and len(inputs) == 2
    for view in inputs:
        assert view.dtype == torch.uint8
        assert tuple(view.shape) == (3, 3, 12, 8)  # (B, C, h, w)
    for k, sample in enumerate(batch['data_samples']):
        assert isinstance(sample, DataSample)
        info = ds.get_sample_info(k)
        assert int(sample.gt_label) == splits['train'][k][1]
        np.testing.assert_array_equal(np.asarray(sample.rot_quat),
                                      info['rot_quat'])
        np.testing.assert_array_equal(np.asarray(sample.color_diff),
                                      info['color_diff'])
        assert sample.img_path == info['img_path']
        # view 0 of the batch is the resized first image
        img = cv2.imread(info['img_path'][0])
        ref = cv2.resize(img, (8, 12), interpolation=cv2.INTER_LINEAR)
        np.testing.assert_array_equal(
            inputs[0][k].permute(1, 2, 0).numpy(), ref)


def test_ibot_pretraining_pipeline_two_renders(bench):
    root, _ = bench
    ds = make(root, mode='pretrain', num_views=NUM_VIEWS,
                       pipeline=[
                           dict(type='LoadViews'),
                           dict(type='iBOTMultiCrop', global_size=16,
                                local_size=8, num_local=2),
                           dict(type='iBOTBlockMaskGenerator', patch_size=4),
                           dict(type='PackInputs',
                                algorithm_keys=['crop_params', 'rot_quat']),
                       ])
    np.random.seed(0)
    random.seed(0)
    batch = default_collate([ds[k] for k in range(4)])
    assert [tuple(v.shape) for v in batch['inputs']] == \
        [(4, 3, 16, 16)] * 2 + [(4, 3, 8, 8)] * 2
    for sample in batch['data_samples']:
        assert tuple(sample.mask.shape) == (2, 4, 4)
        assert sample.crop_params.shape == (4, 5)
        assert len(sample.img_path) == 2
        assert sample.rot_quat.shape == (4,)


def test_repr_and_lazy_init(bench):
    root, _ = bench
    ds = make(root, mode='pair', num_views=NUM_VIEWS,
                       pairs_per_object=2, lazy_init=True)
    text = repr(ds)
    assert "Haven't been initialized" in text and 'Mode: \tpair' in text
    ds.full_init()
    text = repr(ds)
    for part in ('Dataset ThreeDIEBench', 'Number of samples: \t12',
                 'Number of objects: \t6', 'Number of categories: \t3',
                 'Split: \ttrain', 'Pairs per object: \t2'):
        assert part in text, text
    sub = make(root, mode='single', num_views=NUM_VIEWS,
                        indices=5)
    assert len(sub) == 5
    assert 'all views' in repr(sub)


@pytest.mark.parametrize('kwargs, match', [
    (dict(mode='triplet'), 'mode'),
    (dict(split='../x'), 'split'),
    (dict(num_views=1), 'num_views'),
    (dict(pairs_per_object=0), 'pairs_per_object'),
    (dict(views_per_object=2), 'views_per_object'),
    (dict(mode='single', views_per_object=9), 'views_per_object=9'),
    (dict(seed=-1), 'seed'),
])
def test_bad_arguments(bench, kwargs, match):
    root, _ = bench
    with pytest.raises(ValueError, match=match):
        make(root, **{'num_views': NUM_VIEWS, **kwargs})


# -- errors: split files ------------------------------------------------------
def _rewrite(root, name, array):
    np.save(osp.join(root, name), array)
    return osp.join(root, name)


def test_missing_split_file(fresh):
    root, _ = fresh
    os.remove(osp.join(root, 'val_labels.npy'))
    with pytest.raises(FileNotFoundError, match='val_labels.npy'):
        make(root, split='val', num_views=NUM_VIEWS)
    with pytest.raises(FileNotFoundError, match='test_images.npy'):
        make(root, split='test', num_views=NUM_VIEWS)


def test_length_mismatch(fresh):
    root, _ = fresh
    path = _rewrite(root, 'train_labels.npy', np.array([0, 1]))
    with pytest.raises(ValueError, match='3 objects.*train_labels.npy has '
                       '2 labels'):
        make(root, num_views=NUM_VIEWS)
    assert osp.exists(path)


@pytest.mark.parametrize('labels, match', [
    ([0, 1, 7], 'entry 2 .* label 7, expected a label in 0..2'),
    ([0, -1, 2], 'entry 1 .* label -1'),
    ([0, 1.5, 2], 'entry 1 is 1.5'),
    ([0, 0, 2], 'entry 1 .* label 0 is synset'),
])
def test_bad_labels(fresh, labels, match):
    root, _ = fresh
    _rewrite(root, 'train_labels.npy', np.array(labels))
    with pytest.raises(ValueError, match='train_labels.npy: ' + match):
        make(root, num_views=NUM_VIEWS)


def test_labels_checked_against_given_classes(fresh):
    root, _ = fresh
    with pytest.raises(ValueError, match=r'label 2, expected a label in '
                       r'0..1 \(len\(classes\) = 2\)'):
        make(root, num_views=NUM_VIEWS, classes=['a', 'b'])


def test_bad_object_paths(fresh):
    root, splits = fresh
    paths = [p for p, _ in splits['train']]
    for bad, match in (
            (np.arange(3), r'expected a 1-D array of object path '
             r'strings.* dtype int64 \(entry 0: 0\)'),
            (np.array([paths[0], 'just_one_part', paths[2]]),
             "entry 1 is 'just_one_part'"),
            (np.array([paths[0], '/a/b/c/', paths[2]]),
             "entry 1 is '/a/b/c/'"),
            (np.array([paths[0], '/../x/', paths[2]]),
             "entry 1 is '/../x/'"),
            (np.array([paths[0], paths[1], paths[0].strip('/')]),
             'entry 2 .* duplicates entry 0')):
        _rewrite(root, 'train_images.npy', bad)
        with pytest.raises(ValueError, match='train_images.npy: ' + match):
            make(root, num_views=NUM_VIEWS)


def test_missing_object_directory(fresh):
    root, splits = fresh
    path = splits['train'][1][0]
    os.rename(osp.join(root, path.strip('/')), osp.join(root, 'moved'))
    with pytest.raises(FileNotFoundError,
                       match=f'{path.strip("/")} .entry 1 of .*'
                       'train_images.npy. does not exist'):
        make(root, num_views=NUM_VIEWS)


# -- errors: per-view files (at access time) ----------------------------------
def _pair_dataset(root, **kw):
    return make(root, mode='pair', num_views=NUM_VIEWS, **kw)


def _first_pair_file(ds, kind):
    info = ds.get_data_info(0)
    i = info['view_ids'][0]
    folder = osp.join(ds.data_root, info['object_path'])
    return osp.join(folder, f'{kind}_{i}.' +
                    ('npy' if kind == 'latent' else 'jpg'))


def test_missing_latent_and_image(fresh):
    root, _ = fresh
    ds = _pair_dataset(root)
    latent = _first_pair_file(ds, 'latent')
    os.remove(latent)
    with pytest.raises(FileNotFoundError,
                       match=re.escape(latent) + ' does not exist'):
        ds.get_sample_info(0)
    single = make(root, mode='single', num_views=NUM_VIEWS)
    image = osp.join(root, single.get_data_info(1)['object_path'],
                     'image_1.jpg')
    os.remove(image)
    with pytest.raises(FileNotFoundError,
                       match=re.escape(image) + ' does not exist'):
        single.get_sample_info(1)
    with pytest.raises(FileNotFoundError, match='image_1.jpg'):
        single[1]  # through __getitem__ as well (not refetched)


@pytest.mark.parametrize('value, match', [
    (np.zeros(6), r'expected 7 real numbers .* shape \(6,\)'),
    (np.zeros((2, 7)), r'shape \(2, 7\)'),
    (np.array([0.1, np.nan, 0, 0, 0, 0, 0]), 'expected finite values'),
    (np.array([0, 0, 1.6, 0, 0, 0, 0]), r'must lie in \[-pi/2, pi/2\]'),
    (np.array(['a'] * 7), 'dtype <U1'),
])
def test_malformed_latent(fresh, value, match):
    root, _ = fresh
    ds = _pair_dataset(root)
    latent = _first_pair_file(ds, 'latent')
    np.save(latent, value)
    with pytest.raises(ValueError, match=re.escape(latent) + ': .*' + match):
        ds.get_sample_info(0)


def test_latent_shapes_and_tolerance_accepted(fresh):
    root, _ = fresh
    ds = _pair_dataset(root)
    latent = _first_pair_file(ds, 'latent')
    value = np.array([[math.pi / 2 + 5e-7, -math.pi / 2, 0, 0.5, 1, 2,
                       0.25]], dtype=np.float32)
    np.save(latent, value)  # (1, 7) float32 within the tolerance
    s = ds.get_sample_info(0)
    np.testing.assert_array_equal(s['latent'][0], value[0])


def test_corrupt_latent_file(fresh):
    root, _ = fresh
    ds = _pair_dataset(root)
    latent = _first_pair_file(ds, 'latent')
    with open(latent, 'wb') as f:
        f.write(b'not a numpy file')
    with pytest.raises(ValueError, match='cannot read ' + re.escape(latent)):
        ds.get_sample_info(0)
