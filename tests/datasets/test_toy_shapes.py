import hashlib
import os

import cv2
import pytest

from mmequi.datasets import SHAPES, make_toy_shapes


def _digest(root):
    h = hashlib.sha256()
    for dirpath, _, files in sorted(os.walk(root)):
        for f in sorted(files):
            h.update(f.encode())
            with open(os.path.join(dirpath, f), 'rb') as fh:
                h.update(fh.read())
    return h.hexdigest()


def test_layout_counts_and_determinism(tmp_path):
    counts = make_toy_shapes(str(tmp_path / 'a'), num_classes=3,
                             train_per_class=5, val_per_class=2, size=24)
    assert counts == {'train': 15, 'val': 6}
    for split, n in (('train', 5), ('val', 2)):
        assert sorted(os.listdir(tmp_path / 'a' / split)) == sorted(
            SHAPES[:3])
        for shape in SHAPES[:3]:
            files = sorted(os.listdir(tmp_path / 'a' / split / shape))
            assert files == [f'{i:05d}.png' for i in range(n)]
    img = cv2.imread(str(tmp_path / 'a' / 'train' / 'circle' / '00000.png'))
    assert img.shape == (24, 24, 3)
    # the shape is drawn brighter than the background
    assert img.max() >= 128 and img.min() < 96
    make_toy_shapes(str(tmp_path / 'b'), num_classes=3, train_per_class=5,
                    val_per_class=2, size=24)
    assert _digest(tmp_path / 'a') == _digest(tmp_path / 'b')


def test_refuses_to_overwrite_and_bad_class_count(tmp_path):
    (tmp_path / 'x').mkdir()
    (tmp_path / 'x' / 'keep.txt').write_text('mine')
    with pytest.raises(FileExistsError, match='not empty'):
        make_toy_shapes(str(tmp_path / 'x'))
    with pytest.raises(ValueError, match='num_classes=99'):
        make_toy_shapes(str(tmp_path / 'y'), num_classes=99)
