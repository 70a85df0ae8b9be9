"""InMemoryDataset: the decoded images equal a direct decode, the pipeline
runs per access, bad input is named."""
import cv2
import numpy as np
import pytest
from mmpretrain.datasets import CustomDataset

from mmequi.datasets import InMemoryDataset


def _folder(tmp_path, sizes):
    root = tmp_path / 'imgs'
    (root / 'a').mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i, s in enumerate(sizes):
        cv2.imwrite(str(root / 'a' / f'{i}.png'),
                    rng.integers(0, 256, (s, s, 3), dtype=np.uint8))
    return str(root)


def test_images_match_a_direct_decode_and_pipeline_runs(tmp_path):
    root = _folder(tmp_path, [16, 16, 16])
    ds = InMemoryDataset(
        dict(type='CustomDataset', data_root=root, with_label=False),
        pipeline=[dict(type='iBOTBlockMaskGenerator', input_size=32,
                       patch_size=16, num_global=2),
                  dict(type='PackInputs', meta_keys=['img_path',
                                                     'sample_idx'])],
        threads=2)
    assert len(ds) == 3 and ds.images.shape == (3, 16, 16, 3)
    for i, path in enumerate(ds.paths):
        rgb = cv2.cvtColor(cv2.imread(path), cv2.COLOR_BGR2RGB)
        np.testing.assert_array_equal(ds.images[i], rgb)
    out = ds[1]
    assert tuple(out['inputs'].shape) == (3, 16, 16)
    np.testing.assert_array_equal(out['inputs'].permute(1, 2, 0).numpy(),
                                  ds.images[1])
    assert out['data_samples'].sample_idx == 1
    assert tuple(out['data_samples'].mask.shape) == (2, 2, 2)


def test_sizes_and_errors(tmp_path):
    root = _folder(tmp_path, [16, 20])
    with pytest.raises(ValueError, match=r'1.png: image of shape .*size='):
        InMemoryDataset(dict(type='CustomDataset', data_root=root,
                             with_label=False), threads=1)
    ds = InMemoryDataset(CustomDataset(data_root=root, with_label=False),
                         size=8, threads=1)
    assert ds.images.shape == (2, 8, 8, 3)
    (tmp_path / 'imgs' / 'a' / '1.png').write_bytes(b'not an image')
    with pytest.raises(ValueError, match='cannot decode .*1.png'):
        InMemoryDataset(dict(type='CustomDataset', data_root=root,
                             with_label=False), size=8, threads=1)
