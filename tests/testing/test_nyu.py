"""mmequi.testing.make_nyu writes NYU-Depth-v2 as mmseg's converter lays it
out: NYUDataset lists every pair (scene -> category id), the PNGs are
uint16 millimetres with holes (0), LoadDepthAnnotation(1e-3) reads metres,
same seed -> same files, bad arguments are errors."""
import os.path as osp

import cv2
import numpy as np
import pytest

from mmequi.testing import make_nyu
from mmequi.testing.nyu import DEPTH_RANGE_MM, SCENES


@pytest.fixture(scope='module')
def nyu(tmp_path_factory) -> str:
    return make_nyu(str(tmp_path_factory.mktemp('nyu')), num_train=6,
                    num_test=2, size=(48, 64), seed=0)


def test_layout_is_read_by_mmseg_nyu_dataset(nyu):
    import mmequi  # noqa: F401  (mmcv op backend before mmseg.datasets)
    from mmseg.datasets import NYUDataset
    assert osp.basename(nyu) == 'nyu'
    classes = NYUDataset.METAINFO['classes']
    for split, n in (('train', 6), ('test', 2)):
        ds = NYUDataset(data_root=nyu, data_prefix=dict(
            img_path=f'images/{split}',
            depth_map_path=f'annotations/{split}'), pipeline=[])
        assert len(ds) == n
        for info in ds:
            stem = osp.splitext(osp.basename(info['img_path']))[0]
            assert info['depth_map_path'].endswith(
                osp.join('annotations', split, stem + '.png'))
            scene = stem.split('_0')[0]
            assert scene in SCENES
            assert info['category_id'] == classes.index(scene)
            depth = cv2.imread(info['depth_map_path'], cv2.IMREAD_UNCHANGED)
            assert depth.dtype == np.uint16 and depth.shape == (48, 64)
            valid = depth[depth > 0]
            assert valid.min() >= DEPTH_RANGE_MM[0]
            assert valid.max() <= DEPTH_RANGE_MM[1]
            assert (depth == 0).any()  # missing measurements
            assert cv2.imread(info['img_path']).shape == (48, 64, 3)


def test_depth_annotation_loads_in_metres(nyu):
    import mmequi  # noqa: F401
    from mmseg.datasets.transforms import LoadDepthAnnotation
    path = osp.join(nyu, 'annotations', 'test', 'bathroom_00000.png')
    raw = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    out = LoadDepthAnnotation(depth_rescale_factor=1e-3)(
        dict(depth_map_path=path, seg_fields=[]))
    np.testing.assert_allclose(out['gt_depth_map'],
                               raw.astype(np.float32) / 1000, rtol=1e-6)


def test_deterministic_and_checked(nyu, tmp_path):
    again = make_nyu(str(tmp_path), num_train=6, num_test=2, size=(48, 64),
                     seed=0)
    name = 'annotations/train/kitchen_0003a_00002.png'
    assert np.array_equal(cv2.imread(osp.join(nyu, name), -1),
                          cv2.imread(osp.join(again, name), -1))
    with pytest.raises(ValueError, match='num_test'):
        make_nyu(str(tmp_path), num_test=0)
    with pytest.raises(ValueError, match='size'):
        make_nyu(str(tmp_path), size=(0, 8))
