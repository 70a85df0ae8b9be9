"""The procedural 3DIEBench stand-in: maths, meshes, renderer, layout."""
import colorsys
import hashlib
import importlib.util
import math
import os
import os.path as osp
import re

import cv2
import numpy as np
import pytest
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial.transform import Rotation

from mmequi.datasets.toy_3d import (AMBIENT, CAMERA_DISTANCE, CAMERA_POLAR,
                                    FOV_TAN, LATENT_RANGES, SPOT, SPOT_SV,
                                    SUN, SUN_DIR, TOY_CLASSES, Mesh,
                                    euler_xyz_to_matrix, hsv_to_rgb,
                                    make_mesh, make_toy_3diebench, project,
                                    render, sample_latents)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TINY = dict(classes=2, objects_per_class=2, views=2, size=32, seed=0,
            val_fraction=0.5)


def _digest(root):
    h = hashlib.sha256()
    for dirpath, dirs, files in os.walk(root):
        dirs.sort()
        for f in sorted(files):
            h.update(osp.relpath(osp.join(dirpath, f), root).encode())
            with open(osp.join(dirpath, f), 'rb') as fh:
                h.update(fh.read())
    return h.hexdigest()


def _iou(a, b):
    return (a & b).sum() / max((a | b).sum(), 1)


CUBE_V = np.array([[x, y, z] for z in (-1, 1) for y in (-1, 1)
                   for x in (-1, 1)], np.float64) * 0.5
CUBE_F = np.array([[0, 2, 1], [1, 2, 3], [4, 5, 6], [5, 7, 6], [0, 1, 5],
                   [0, 5, 4], [2, 6, 7], [2, 7, 3], [0, 4, 6], [0, 6, 2],
                   [1, 3, 7], [1, 7, 5]])


def _boxes(*boxes):
    """Mesh of axis-aligned boxes ``(centre, size, rgb)``."""
    v = [CUBE_V * size + centre for centre, size, _ in boxes]
    f = [CUBE_F + 8 * i for i in range(len(boxes))]
    c = [np.tile(rgb, (12, 1)) for _, _, rgb in boxes]
    return Mesh(np.concatenate(v), np.concatenate(f),
                np.concatenate(c).astype(np.float64))


def _latent(angles=(0, 0, 0), floor_hue=0.3, theta=0.0, phi=0.0,
            spot_hue=0.0):
    return np.array([*angles, floor_hue, theta, phi, spot_hue], np.float64)


# ------------------------------------------------------------------ maths
def test_euler_matches_scipy_extrinsic_xyz():
    rng = np.random.default_rng(0)
    angles = rng.uniform(-np.pi, np.pi, (64, 3))
    ref = Rotation.from_euler('xyz', angles).as_matrix()
    np.testing.assert_allclose(euler_xyz_to_matrix(angles), ref, atol=1e-12)
    np.testing.assert_allclose(euler_xyz_to_matrix(angles[5]), ref[5],
                               atol=1e-12)
    # extrinsic (lowercase) and intrinsic (uppercase) differ: not confused
    assert not np.allclose(euler_xyz_to_matrix(angles[:4]),
                           Rotation.from_euler('XYZ', angles[:4]).as_matrix())
    with pytest.raises(ValueError, match='shape'):
        euler_xyz_to_matrix(np.zeros(4))


def test_hsv_to_rgb_matches_colorsys():
    rng = np.random.default_rng(1)
    hsv = rng.random((200, 3))
    ref = np.array([colorsys.hsv_to_rgb(*x) for x in hsv])
    np.testing.assert_allclose(hsv_to_rgb(*hsv.T), ref, atol=1e-12)
    np.testing.assert_allclose(hsv_to_rgb(0.25, 0.6, 0.6),
                               colorsys.hsv_to_rgb(0.25, 0.6, 0.6))


# ----------------------------------------------------------------- meshes
@pytest.mark.parametrize('name', TOY_CLASSES)
def test_meshes_closed_outward_and_normalised(name):
    m = make_mesh(name, np.random.default_rng(3))
    v, f, c = m.vertices, m.faces, m.face_colors
    assert v.dtype == np.float64 and v.ndim == 2 and v.shape[1] == 3
    assert f.dtype == np.int64 and f.shape[1] == 3
    assert c.shape == f.shape and c.min() >= 0 and c.max() <= 1
    assert len(np.unique(c, axis=0)) >= 2            # parts are two-tone+
    radius = np.sqrt((v ** 2).sum(1))
    assert abs(radius.max() - 1) < 1e-9                # fills the sphere
    np.testing.assert_allclose((v.min(0) + v.max(0)) / 2, 0, atol=1e-12)
    # closed, consistently wound: every directed edge once, its reverse too
    e = np.concatenate([f[:, [0, 1]], f[:, [1, 2]], f[:, [2, 0]]])
    fwd = {tuple(x) for x in e.tolist()}
    assert len(fwd) == len(e)
    assert all((b, a) in fwd for a, b in fwd)
    tri = v[f]
    cross = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    assert (np.linalg.norm(cross, axis=1) > 1e-12).all()
    # outward: every part (connected component) has positive volume
    g = coo_matrix((np.ones(len(e)), (e[:, 0], e[:, 1])),
                   shape=(len(v), len(v)))
    ncomp, comp = connected_components(g, directed=False)
    vol = np.einsum('ij,ij->i', tri[:, 0], np.cross(tri[:, 1], tri[:, 2]))
    part_vol = np.bincount(comp[f[:, 0]], vol / 6, minlength=ncomp)
    assert (part_vol > 1e-6).all(), part_vol
    # proportions are random per object
    m2 = make_mesh(name, np.random.default_rng(4))
    assert m2.vertices.shape != v.shape or not np.allclose(m2.vertices, v)


def test_make_mesh_unknown_class():
    with pytest.raises(ValueError, match="unknown class 'sphere'"):
        make_mesh('sphere', np.random.default_rng(0))


# --------------------------------------------------------------- geometry
def _look_at_projection(points, size):
    """An independent pinhole camera from the documented constants."""
    eye = CAMERA_DISTANCE * np.array(
        [0, math.sin(CAMERA_POLAR), math.cos(CAMERA_POLAR)])
    fwd = -eye / np.linalg.norm(eye)
    right = np.cross(fwd, [0, 0, 1])
    right /= np.linalg.norm(right)
    up = np.cross(right, fwd)
    rmat = np.stack([right, -up, fwd])               # OpenCV: x right, y down
    tvec = -rmat @ eye
    f = size / 2 / FOV_TAN
    k = np.array([[f, 0, size / 2], [0, f, size / 2], [0, 0, 1]])
    pts, _ = cv2.projectPoints(points, cv2.Rodrigues(rmat)[0], tvec, k, None)
    return pts[:, 0]


def test_silhouette_matches_independent_projection():
    # a cube of our own, rotated, against the convex hull of its projected
    # corners drawn by OpenCV
    corners = CUBE_V
    cube = Mesh(CUBE_V, CUBE_F, np.full((12, 3), 0.7))
    size = 256
    for angles in ([0.3, -0.5, 0.9], [-1.2, 0.4, -0.2], [0, 0, 0]):
        _, mask = render(cube, _latent(angles), size, return_mask=True,
                         supersample=1)
        world = corners @ Rotation.from_euler('xyz', angles).as_matrix().T
        px = _look_at_projection(world, size)
        np.testing.assert_allclose(project(world, size), px, atol=1e-9)
        px = px - 0.5                        # OpenCV pixel centres at ints
        hull = cv2.convexHull(np.round(px * 16).astype(np.int32))
        ref = np.zeros((size, size), np.uint8)
        cv2.fillConvexPoly(ref, hull, 1, lineType=cv2.LINE_8, shift=4)
        assert _iou(mask, ref.astype(bool)) > 0.98


def test_zbuffer_nearest_surface_wins():
    eye = np.array([0, math.sin(CAMERA_POLAR), math.cos(CAMERA_POLAR)])
    for near, far in (((0.9, 0.1, 0.1), (0.1, 0.1, 0.9)),
                      ((0.1, 0.1, 0.9), (0.9, 0.1, 0.1))):
        # two cubes on the optical axis; the first one is nearer
        mesh = _boxes((0.4 * eye, (0.4,) * 3, near),
                      (-0.4 * eye, (0.4,) * 3, far))
        img = render(mesh, _latent(spot_hue=0.0, theta=0.0), 32,
                     supersample=1).astype(int)
        centre = img[15:17, 15:17].reshape(-1, 3).mean(0)
        k = 0 if near[0] > near[2] else 2
        assert centre[k] > centre[2 - k] + 30


def test_lambert_shading_formula():
    # a horizontal grey plate under a red spot straight above: its top face
    # (normal +z) faces the light (cos = 1, inside the cone)
    albedo = 0.8
    mesh = _boxes(((0, 0, 0), (1.2, 1.2, 0.1), (albedo,) * 3))
    size = 64
    img = render(mesh, _latent(floor_hue=0.5, theta=0.0, spot_hue=0.0),
                 size, supersample=1).astype(float)
    col, row = np.floor(_look_at_projection(np.array([[0, 0, 0.05]]),
                                            size)[0]).astype(int)
    spot_red = colorsys.hsv_to_rgb(0.0, *SPOT_SV)[0]
    base = AMBIENT + SUN * max(SUN_DIR[2], 0)
    expect = 255 * albedo * np.array([base + SPOT * spot_red, base, base])
    np.testing.assert_allclose(img[row, col], np.clip(expect, 0, 255),
                               atol=2.0)


@pytest.mark.parametrize('name', ['airplane', 'chair', 'mug', 'arrow'])
def test_rotation_equals_prerotated_mesh(name):
    rng = np.random.default_rng(7)
    mesh = make_mesh(name, rng)
    for angles in rng.uniform(-np.pi / 2, np.pi / 2, (3, 3)):
        img, mask = render(mesh, _latent(angles, theta=0.4, phi=2.0),
                           48, return_mask=True)
        rot = Rotation.from_euler('xyz', angles).as_matrix()
        pre = Mesh(mesh.vertices @ rot.T, mesh.faces, mesh.face_colors)
        img0, mask0 = render(pre, _latent(theta=0.4, phi=2.0), 48,
                             return_mask=True)
        assert mask.sum() > 50
        assert _iou(mask, mask0) > 0.99
        assert np.abs(img.astype(int) - img0).mean() < 1.0
        # the transpose (inverse rotation) would be a different picture
        inv = Mesh(mesh.vertices @ rot, mesh.faces, mesh.face_colors)
        _, mask_inv = render(inv, _latent(theta=0.4, phi=2.0), 48,
                             return_mask=True)
        assert _iou(mask, mask_inv) < 0.95


def test_different_rotations_give_different_silhouettes():
    mesh = make_mesh('airplane', np.random.default_rng(0))
    _, m0 = render(mesh, _latent(), 64, return_mask=True)
    for angles in ([0, 0, np.pi / 2], [np.pi / 2, 0, 0], [0, 1.0, 0]):
        _, m1 = render(mesh, _latent(angles), 64, return_mask=True)
        assert _iou(m0, m1) < 0.8


def test_shadow_falls_away_from_the_light():
    # phi = 0 puts the spot on the +x side; the camera's right is -x and
    # its top is far -y, so the shadow moves right / left / down
    mesh = _boxes(((0, 0, 0.1), (0.25, 0.25, 0.9), (0.8, 0.8, 0.8)))

    def shadow_of(phi):
        lat = _latent(floor_hue=0.1, theta=np.pi / 4, phi=phi, spot_hue=0.5)
        img, mask = render(mesh, lat, 64, return_mask=True)
        flat = render(mesh, lat, 64, shadows=False)
        return (np.abs(flat.astype(int) - img).sum(2) > 30) & ~mask, mask

    for phi, (axis, sign) in {0.0: (0, 1), np.pi: (0, -1),
                              3 * np.pi / 2: (1, 1)}.items():
        shadow, mask = shadow_of(phi)
        assert shadow.sum() > 30
        obj_c = np.argwhere(mask).mean(0)[::-1]      # (x, y)
        sh_c = np.argwhere(shadow).mean(0)[::-1]
        assert sign * (sh_c[axis] - obj_c[axis]) > 3, (phi, obj_c, sh_c)
    # theta = pi/4, phi = pi/2 is the camera's own direction: the shadow
    # falls exactly behind the object, out of sight
    assert shadow_of(np.pi / 2)[0].sum() <= 3


@pytest.mark.parametrize('floor_hue', [0.0, 0.17, 0.5, 0.83])
def test_floor_colour_follows_floor_hue(floor_hue):
    mesh = make_mesh('chair', np.random.default_rng(0))
    img, mask = render(mesh, _latent((0.2, -0.3, 0.5), floor_hue, 0.0, 1.0,
                                     0.6), 32, return_mask=True)
    for y, x in ((0, 0), (0, 31)):          # far floor, outside the pool
        assert not mask[y, x]
        h, s, v = colorsys.rgb_to_hsv(*(img[y, x] / 255.0))
        assert min(abs(h - floor_hue), 1 - abs(h - floor_hue)) < 0.01
        assert abs(s - 0.6) < 0.02 and abs(v - 0.6) < 0.01


def test_light_hue_changes_object_colour():
    mesh = make_mesh('l_shape', np.random.default_rng(0))
    grey = Mesh(mesh.vertices, mesh.faces, np.full(mesh.faces.shape, 0.8))
    imgs, masks = [], []
    for spot_hue in (0.0, 1 / 3, 2 / 3):         # red, green, blue light
        img, mask = render(grey, _latent((0.3, 0.2, 0.4), 0.5, 0.3, 1.0,
                                         spot_hue), 48, return_mask=True)
        imgs.append(img.astype(float))
        masks.append(mask)
    obj = masks[0] & masks[1] & masks[2]
    assert obj.sum() > 100
    assert (masks[0] == masks[1]).all()          # the light moves no pixel
    means = np.array([im[obj].mean(0) for im in imgs])   # (light, channel)
    for k in range(3):   # channel k is brightest under light k
        assert means[k, k] - np.delete(means[:, k], k).max() > 20


def test_mesh_validates_shapes():
    with pytest.raises(ValueError, match=r'faces \(F, 3\)'):
        Mesh(CUBE_V, CUBE_F[:, :2], np.zeros((12, 3)))
    with pytest.raises(ValueError, match='index vertices 0..7'):
        Mesh(CUBE_V, CUBE_F + 1, np.zeros((12, 3)))


def test_render_rejects_bad_latent():
    mesh = make_mesh('cone', np.random.default_rng(0))
    with pytest.raises(ValueError, match='latent must be 7'):
        render(mesh, np.zeros(6))
    with pytest.raises(ValueError, match='size'):
        render(mesh, np.zeros(7), size=0)


def test_sample_latents_uniform_in_documented_ranges():
    lat = sample_latents(np.random.default_rng(0), 20000)
    assert lat.dtype == np.float32 and lat.shape == (20000, 7)
    lo = np.array([r[0] for r in LATENT_RANGES])
    hi = np.array([r[1] for r in LATENT_RANGES])
    np.testing.assert_allclose(lo[:3], -np.pi / 2)
    np.testing.assert_allclose(hi[:3], np.pi / 2)
    np.testing.assert_allclose(lo[3:], 0)
    np.testing.assert_allclose(hi[3:], [1, np.pi / 4, 2 * np.pi, 1])
    assert ((lat >= lo) & (lat <= hi)).all()
    width = hi - lo
    u = (lat - lo) / width                       # ~ U(0, 1) per column
    assert (u.min(0) < 1e-3).all() and (u.max(0) > 1 - 1e-3).all()
    np.testing.assert_allclose(u.mean(0), 0.5, atol=0.01)
    np.testing.assert_allclose(np.quantile(u, [0.25, 0.75], axis=0),
                               [[0.25] * 7, [0.75] * 7], atol=0.015)
    corr = np.corrcoef(u.T) - np.eye(7)
    assert np.abs(corr).max() < 0.05              # independent latents
    # the float32 bounds never round outside the closed ranges
    edge = sample_latents(np.random.default_rng(1), 5)
    assert ((edge >= lo) & (edge <= hi)).all()


# ------------------------------------------------------------ the data set
@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('toy3d') / 'a')
    counts = make_toy_3diebench(root, workers=1, **TINY)
    return root, counts


def test_layout_splits_and_latents(tiny):
    root, counts = tiny
    assert counts['train_objects'] == 2 and counts['val_objects'] == 2
    assert counts['train_images'] == 4 and counts['val_images'] == 4
    assert counts['images'] == 8 and counts['seconds'] >= 0
    split_files = {f'{s}_{k}.npy' for s in ('train', 'val')
                   for k in ('images', 'labels')}
    assert set(os.listdir(root)) == {'90000000', '90000001'} | split_files
    on_disk = set()
    for syn in ('90000000', '90000001'):
        for obj in os.listdir(osp.join(root, syn)):
            assert re.fullmatch('[0-9a-f]{32}', obj)
            on_disk.add(f'/{syn}/{obj}/')
            assert sorted(os.listdir(osp.join(root, syn, obj))) == [
                'image_0.jpg', 'image_1.jpg', 'latent_0.npy', 'latent_1.npy']
    assert len(on_disk) == 4
    seen = {}
    for split in ('train', 'val'):
        paths = np.load(osp.join(root, f'{split}_images.npy'))
        labels = np.load(osp.join(root, f'{split}_labels.npy'))
        assert paths.dtype.kind == 'U' and labels.dtype.kind == 'i'
        assert paths.shape == labels.shape == (2,)
        for p, lab in zip(paths, labels):
            assert re.fullmatch('/[0-9]{8}/[0-9a-f]{32}/', p)
            assert 0 <= lab < 2 and int(p[1:9]) - 90000000 == lab
        assert sorted(labels.tolist()) == [0, 1]   # 1 object per class
        seen[split] = set(paths.tolist())
    assert not seen['train'] & seen['val']
    assert seen['train'] | seen['val'] == on_disk
    lo = np.array([r[0] for r in LATENT_RANGES])
    hi = np.array([r[1] for r in LATENT_RANGES])
    checked = 0
    for p in on_disk:
        for i in range(2):
            # the SIE loader's path arithmetic: root / path[1:] / file
            lat = np.load(osp.join(root, p[1:], f'latent_{i}.npy'))
            assert lat.dtype == np.float32 and lat.shape == (7,)
            assert ((lat >= lo) & (lat <= hi)).all(), lat
            bgr = cv2.imread(osp.join(root, p[1:], f'image_{i}.jpg'))
            assert bgr.shape == (32, 32, 3) and bgr.dtype == np.uint8
            # channel order: the far floor's hue is the latent floor hue
            # (when the spot's pool does not reach that corner)
            if lat[4] < 0.5:
                rgb = bgr[0, 0, ::-1] / 255.0
                h = colorsys.rgb_to_hsv(*rgb)[0]
                assert min(abs(h - lat[3]), 1 - abs(h - lat[3])) < 0.03
                checked += 1
    assert checked > 0


def test_val_split_is_stratified_per_class(tmp_path):
    make_toy_3diebench(str(tmp_path / 'a'), classes=3, objects_per_class=5,
                       views=1, size=16, val_fraction=0.4, workers=1)
    val = np.load(tmp_path / 'a' / 'val_labels.npy')
    train = np.load(tmp_path / 'a' / 'train_labels.npy')
    assert np.bincount(val).tolist() == [2, 2, 2]
    assert np.bincount(train).tolist() == [3, 3, 3]
    # val_fraction=0: everything in train, empty (but present) val files
    counts = make_toy_3diebench(str(tmp_path / 'b'), classes=2,
                                objects_per_class=2, views=1, size=16,
                                val_fraction=0.0, workers=1)
    assert counts['val_objects'] == 0 and counts['train_objects'] == 4
    assert np.load(tmp_path / 'b' / 'val_images.npy').shape == (0,)
    assert np.load(tmp_path / 'b' / 'val_labels.npy').shape == (0,)
    assert len(np.load(tmp_path / 'b' / 'train_images.npy')) == 4


def test_deterministic_across_workers_and_seeds(tiny, tmp_path):
    root, _ = tiny
    make_toy_3diebench(str(tmp_path / 'again'), workers=1, **TINY)
    make_toy_3diebench(str(tmp_path / 'pool'), workers=2, **TINY)
    make_toy_3diebench(str(tmp_path / 'other'), workers=1,
                       **{**TINY, 'seed': 1})
    ref = _digest(root)
    assert _digest(tmp_path / 'again') == ref
    assert _digest(tmp_path / 'pool') == ref
    assert _digest(tmp_path / 'other') != ref
    assert set(os.listdir(tmp_path / 'other' / '90000000')).isdisjoint(
        os.listdir(osp.join(root, '90000000')))


def test_refuses_non_empty_output(tmp_path):
    out = tmp_path / 'x'
    out.mkdir()
    (out / 'keep.txt').write_text('mine')
    with pytest.raises(FileExistsError, match=re.escape(str(out))):
        make_toy_3diebench(str(out), **TINY)
    assert os.listdir(out) == ['keep.txt']
    with pytest.raises(FileExistsError, match='not a directory'):
        make_toy_3diebench(str(out / 'keep.txt'), **TINY)
    make_toy_3diebench(str(tmp_path / 'empty'), workers=1, **TINY)  # ok


@pytest.mark.parametrize('kwargs, match', [
    (dict(classes=0), r'classes=0: must be an integer in 1\.\.12'),
    (dict(classes=13), r'classes=13: must be an integer in 1\.\.12'),
    (dict(objects_per_class=0), 'objects_per_class=0'),
    (dict(views=0), 'views=0'),
    (dict(size=4), r'size=4: must be an integer in 8\.\.1024'),
    (dict(seed=-1), 'seed=-1'),
    (dict(workers=0), 'workers=0'),
    (dict(val_fraction=1.0), r'val_fraction=1\.0: must be a float in'),
    (dict(val_fraction=-0.1), 'val_fraction=-0.1'),
    (dict(objects_per_class=2, val_fraction=0.1), 'holds out 0 objects'),
    (dict(objects_per_class=1, val_fraction=0.6), 'leaves no train'),
])
def test_bad_arguments(tmp_path, kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_toy_3diebench(str(tmp_path / 'x'), **kwargs)
    assert not (tmp_path / 'x').exists()          # checked before writing


def test_cli(tmp_path, capsys):
    path = osp.join(REPO, 'tools', 'dataset_converters',
                    'make_toy_3diebench.py')
    spec = importlib.util.spec_from_file_location('make_toy_3diebench', path)
    cli = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cli)
    counts = cli.main(['--out', str(tmp_path / 'c'), '--classes', '1',
                       '--objects-per-class', '2', '--views', '1',
                       '--size', '16', '--val-fraction', '0.5',
                       '--workers', '1'])
    assert counts['images'] == 2
    out = capsys.readouterr().out
    assert '1/2 objects' in out and '2/2 objects' in out
    assert re.search(r'wrote 2 images \(1 train / 1 val objects, 1 / 1 '
                     r'images\) to .* in [0-9.]+ s', out)
    # argument errors are usage errors, not tracebacks
    with pytest.raises(SystemExit) as exc:
        cli.main(['--out', str(tmp_path / 'c'), '--views', '1'])
    assert exc.value.code == 2
    assert 'exists and is not empty' in capsys.readouterr().err


def test_workers_after_torch_threads_do_not_hang(tmp_path):
    """Forked workers in a process whose torch/OpenCV thread pools are
    running (the test suite, the demo) must not touch those pools: calling
    torch.set_num_threads inside the worker hung the whole test suite once
    (intermittently: a race with the parent's OpenMP threads). A smoke test
    of that situation, with a timeout instead of a hung CI job."""
    import subprocess
    import sys
    code = (
        'import sys, numpy as np, torch, cv2\n'
        'a = torch.randn(512, 512); [a @ a for _ in range(5)]\n'
        'torch.nn.functional.conv2d(torch.randn(4, 3, 64, 64),\n'
        '                           torch.randn(8, 3, 3, 3))\n'
        'cv2.GaussianBlur(np.zeros((2000, 2000, 3), np.uint8), (9, 9), 2)\n'
        'from mmequi.datasets.toy_3d import make_toy_3diebench\n'
        f'make_toy_3diebench({str(tmp_path / "x")!r}, classes=2, '
        'objects_per_class=5, views=2, size=16, workers=2)\n'
        'print("done")\n')
    proc = subprocess.run([sys.executable, '-c', code], timeout=120,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert 'done' in proc.stdout
