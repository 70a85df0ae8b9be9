"""The fixture writers' shared argument checks and checked write."""
import os.path as osp

import numpy as np
import pytest

from mmequi.testing import make_ade20k, make_mpii, make_nyu
from mmequi.testing._checks import check_split_sizes, write_image


def test_check_split_sizes_returns_h_w_and_names_the_bad_value():
    assert check_split_sizes('w', dict(a=1, b=3), (5, 7)) == (5, 7)
    with pytest.raises(ValueError,
                       match=r'^w: a and b must be >= 1, got 2 and 0$'):
        check_split_sizes('w', dict(a=2, b=0), (5, 7))
    with pytest.raises(ValueError, match=r'with positive entries, got '
                       r'\(0, 7\)$'):
        check_split_sizes('w', dict(a=1, b=1), (0, 7))
    with pytest.raises(ValueError, match=r'entries >= 32, got \(16, 64\)'):
        check_split_sizes('w', dict(a=1, b=1), (16, 64), min_side=32)
    with pytest.raises(ValueError, match='size must be'):
        check_split_sizes('w', dict(a=1, b=1), (8, 8, 3))


@pytest.mark.parametrize('writer, kwargs, message', [
    (make_nyu, dict(num_test=0),
     'make_nyu: num_train and num_test must be >= 1, got 4 and 0'),
    (make_ade20k, dict(size=(64, 0)),
     'make_ade20k: size must be (height, width) with positive entries'),
    (make_mpii, dict(size=(31, 64)),
     'make_mpii: size must be (height, width) with entries >= 32'),
])
def test_writers_check_before_writing(tmp_path, writer, kwargs, message):
    with pytest.raises(ValueError) as err:
        writer(str(tmp_path), **kwargs)
    assert str(err.value).startswith(message)
    assert not any(tmp_path.iterdir())  # nothing written


def test_write_image_raises_naming_the_writer_and_path(tmp_path):
    img = np.zeros((4, 4, 3), np.uint8)
    path = str(tmp_path / 'a.jpg')
    write_image('w', path, img, jpeg_quality=95)
    assert osp.getsize(path) > 0
    bad = str(tmp_path / 'missing_dir' / 'b.png')
    with pytest.raises(OSError, match=r'^w: could not write .*b\.png$'):
        write_image('w', bad, img)
