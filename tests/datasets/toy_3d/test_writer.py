"""Toy 3DIEBench writer: layout, splits, determinism, CLI, workers."""
import colorsys
import hashlib
import importlib.util
import os
import os.path as osp
import re

import cv2
import numpy as np
import pytest

from mmequi.datasets.toy_3d import LATENT_RANGES, make_toy_3diebench

REPO = osp.dirname(osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))
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
