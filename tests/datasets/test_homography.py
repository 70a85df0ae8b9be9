"""HomographyPairs (DeTone et al. 2016 pairs) against an independent
computation with OpenCV and numpy:

* the target offsets define, through ``cv2.getPerspectiveTransform`` from
  the patch corners to corners + offsets, the homography that maps the
  patch corners (``cv2.perspectiveTransform``) onto the perturbed corners;
* patch A is the crop of the resized grayscale image, and patch B is that
  image sampled (our own bilinear interpolation) at ``H p`` for every pixel
  ``p`` of the patch -- i.e. the crop of the image warped by ``H^-1`` -- with
  the documented corner order (a permuted order fails the same check);
* evaluation pairs are a function of (seed, index): two instances, repeated
  calls and dataloader workers agree; training pairs change with the epoch
  seed and repeat for the same one;
* empty / missing folders, undecodable images and impossible geometry raise
  errors naming the folder, file or values.
"""
import os
import os.path as osp
from typing import Sequence, Tuple

import cv2
import numpy as np
import pytest
import torch

from mmequi.datasets import HomographyPairs, PackHomographyInputs
from mmequi.datasets.homography import CORNER_ORDER, patch_corners
from mmequi.engine.hooks.epoch_seed_hook import epoch_seed, seed_everything

W, H, P, RHO = 320, 240, 128, 32


def write_textured_images(root: str,
                          sizes: Sequence[Tuple[int, int]] = (
                              (400, 300), (200, 150), (640, 480), (300, 500)),
                          seed: int = 0, subdir_every: int = 2,
                          ext: str = '.jpg') -> list:
    """Write smooth random colour textures (upsampled noise, JPEG q=95) of
    the given (w, h) sizes under ``root`` (every ``subdir_every``-th one in
    a nested folder); returns the paths in sorted order."""
    rng = np.random.default_rng(seed)
    paths = []
    for i, (w, h) in enumerate(sizes):
        small = rng.integers(0, 256, (max(2, h // 12), max(2, w // 12), 3))
        img = cv2.resize(small.astype(np.uint8), (w, h),
                         interpolation=cv2.INTER_CUBIC)
        folder = osp.join(root, 'nested', 'deeper') \
            if subdir_every and i % subdir_every == 1 else root
        os.makedirs(folder, exist_ok=True)
        path = osp.join(folder, f'img_{i:03d}{ext}')
        assert cv2.imwrite(path, img, [cv2.IMWRITE_JPEG_QUALITY, 95])
        paths.append(path)
    return sorted(paths, key=lambda p: osp.relpath(p, root))


@pytest.fixture(scope='module')
def folder(tmp_path_factory) -> str:
    root = str(tmp_path_factory.mktemp('hp_images'))
    write_textured_images(root)
    with open(osp.join(root, 'notes.txt'), 'w') as f:  # not an image
        f.write('ignored')
    return root


def _gray(path: str) -> np.ndarray:
    """The documented preprocessing, done here independently."""
    img = cv2.cvtColor(cv2.imread(path, cv2.IMREAD_COLOR), cv2.COLOR_BGR2GRAY)
    return cv2.resize(img, (W, H), interpolation=cv2.INTER_LINEAR)


def _bilinear(img: np.ndarray, x: np.ndarray, y: np.ndarray):
    """Bilinear samples of a (H, W) image at float (x, y) (pixel centres at
    integers) and the mask of points whose 4 neighbours are inside."""
    x0, y0 = np.floor(x).astype(int), np.floor(y).astype(int)
    inside = (x0 >= 0) & (y0 >= 0) & (x0 + 1 < img.shape[1]) & \
        (y0 + 1 < img.shape[0])
    x0c = np.clip(x0, 0, img.shape[1] - 2)
    y0c = np.clip(y0, 0, img.shape[0] - 2)
    fx, fy = x - x0c, y - y0c
    im = img.astype(np.float64)
    v = (im[y0c, x0c] * (1 - fx) * (1 - fy) + im[y0c, x0c + 1] * fx *
         (1 - fy) + im[y0c + 1, x0c] * (1 - fx) * fy +
         im[y0c + 1, x0c + 1] * fx * fy)
    return v, inside


def _patch_b_from_target(img, corners, offsets, margin: int = 2):
    """(reference pixels, mask) of patch B built from the TARGET offsets:
    pixel p of the patch shows the image at H p, H = getPerspectiveTransform
    (corners -> corners + offsets)."""
    hmat = cv2.getPerspectiveTransform(
        corners.astype(np.float32), (corners + offsets).astype(np.float32))
    x0, y0 = corners[0]
    v, u = np.mgrid[0:P, 0:P].astype(np.float64)
    pts = np.stack([u + x0, v + y0], -1).reshape(-1, 1, 2)
    q = cv2.perspectiveTransform(pts, hmat).reshape(P, P, 2)
    ref, inside = _bilinear(img, q[..., 0], q[..., 1])
    keep = inside.copy()
    keep[:margin], keep[-margin:], keep[:, :margin], keep[:, -margin:] = (
        False, ) * 4
    return ref, keep


def test_pairs_match_opencv_geometry(folder):
    ds = HomographyPairs(data_root=folder, test_mode=True, keep_image=True)
    assert len(ds) == 4
    assert CORNER_ORDER == ('top_left', 'top_right', 'bottom_right',
                            'bottom_left')
    for i in range(len(ds)):
        r = ds[i]
        img = _gray(r['img_path'])
        assert np.array_equal(r['img'], img)
        corners, offsets = r['corners'], r['offsets']
        assert corners.shape == offsets.shape == (4, 2)
        x0, y0 = corners[0]
        assert x0 == int(x0) and RHO <= x0 <= W - RHO - P
        assert y0 == int(y0) and RHO <= y0 <= H - RHO - P
        assert np.array_equal(corners, np.array(
            [[x0, y0], [x0 + P, y0], [x0 + P, y0 + P], [x0, y0 + P]]))
        assert np.abs(offsets).max() <= RHO and np.abs(offsets).max() > 0
        # the target offsets define H: perspectiveTransform of the corners
        # lands on corners + offsets, and H is the dataset's homography
        hmat = cv2.getPerspectiveTransform(corners, corners + offsets)
        moved = cv2.perspectiveTransform(
            corners.reshape(-1, 1, 2).astype(np.float64), hmat).reshape(4, 2)
        np.testing.assert_allclose(moved, corners + offsets, atol=1e-3)
        np.testing.assert_allclose(r['homography'], hmat, rtol=1e-6,
                                   atol=1e-9)
        # perturbed corners stay in the image
        moved_all = corners + offsets
        assert (moved_all >= 0).all() and (moved_all[:, 0] <= W).all() and \
            (moved_all[:, 1] <= H).all()
        # patch A = crop of the image, patch B = image sampled at H p
        xi, yi = int(x0), int(y0)
        assert np.array_equal(r['patch_a'], img[yi:yi + P, xi:xi + P])
        ref, keep = _patch_b_from_target(img, corners, offsets)
        assert keep.mean() > 0.9
        diff = np.abs(r['patch_b'].astype(np.float64) - ref)[keep]
        # (OpenCV rounds to uint8: at most 0.5 off, plus its fixed-point
        # interpolation weights)
        assert diff.mean() < 0.5 and diff.max() <= 1, (i, diff.mean(),
                                                       diff.max())
        # ... = the crop of the image warped by H^-1 (OpenCV's semantics)
        warped = cv2.warpPerspective(img, np.linalg.inv(hmat), (W, H))
        crop = warped[yi:yi + P, xi:xi + P].astype(np.int16)
        assert np.abs(crop - r['patch_b'])[keep].max() <= 1
        # the check can fail: a permuted corner order or the forward
        # instead of the inverse warp gives other pixels
        for wrong in (offsets[[1, 0, 3, 2]], -offsets):
            ref_w, keep_w = _patch_b_from_target(img, corners, wrong)
            both = keep & keep_w
            bad = np.abs(r['patch_b'].astype(np.float64) - ref_w)[both]
            assert bad.mean() > 10, (i, bad.mean())


def test_color_patches_and_packing(folder):
    ds = HomographyPairs(data_root=folder, color_type='color', test_mode=True,
                         pipeline=[dict(type='PackHomographyInputs')])
    gray = HomographyPairs(data_root=folder, test_mode=True)
    out = ds[1]
    assert out['inputs'].dtype == torch.uint8
    assert out['inputs'].shape == (2, 3, P, P)
    sample = out['data_samples']
    ref = gray[1]  # same seed and index -> same geometry
    np.testing.assert_array_equal(sample.gt_offsets.numpy(), ref['offsets'])
    np.testing.assert_array_equal(sample.corners, ref['corners'])
    assert sample.sample_idx == 1 and sample.img_shape == (H, W)
    bgr = cv2.resize(cv2.imread(sample.img_path), (W, H),
                     interpolation=cv2.INTER_LINEAR)
    x0, y0 = (int(v) for v in ref['corners'][0])
    np.testing.assert_array_equal(
        out['inputs'][0].permute(1, 2, 0).numpy(),
        bgr[y0:y0 + P, x0:x0 + P])
    packed = PackHomographyInputs()(dict(ref))
    assert packed['inputs'].shape == (2, 1, P, P)
    assert torch.equal(packed['inputs'][1, 0],
                       torch.from_numpy(ref['patch_b']))
    with pytest.raises(KeyError, match='patch_b'):
        PackHomographyInputs()(dict(patch_a=ref['patch_a'],
                                    offsets=ref['offsets']))


def _same(a: dict, b: dict) -> bool:
    return all(np.array_equal(a[k], b[k])
               for k in ('patch_a', 'patch_b', 'offsets', 'corners'))


def test_eval_pairs_are_deterministic(folder):
    pipeline = [dict(type='PackHomographyInputs')]
    ds1 = HomographyPairs(data_root=folder, test_mode=True)
    ds2 = HomographyPairs(data_root=folder, test_mode=True)
    for i in range(len(ds1)):
        np.random.seed(i)  # the global generator must not matter
        a = ds1[i]
        np.random.seed(1000 + i)
        assert _same(a, ds2[i]) and _same(a, ds1[i])
    assert not np.array_equal(ds1[0]['offsets'], ds1[1]['offsets'])
    # another seed, other pairs
    other = HomographyPairs(data_root=folder, test_mode=True, seed=1)
    assert not np.array_equal(other[0]['offsets'], ds1[0]['offsets'])
    # dataloader workers (each with its own global seed) give the same pairs
    packed = HomographyPairs(data_root=folder, test_mode=True,
                             pipeline=pipeline)
    loader = torch.utils.data.DataLoader(
        packed, batch_size=None, num_workers=2, shuffle=False,
        collate_fn=lambda x: x)
    for i, item in enumerate(loader):
        ref = ds1[i]
        np.testing.assert_array_equal(
            item['data_samples'].gt_offsets.numpy(), ref['offsets'])
        np.testing.assert_array_equal(item['inputs'][1, 0].numpy(),
                                      ref['patch_b'])


def test_training_pairs_change_per_epoch(folder):
    ds = HomographyPairs(data_root=folder, pairs_per_image=2)
    assert len(ds) == 8 and not ds.deterministic
    assert ds.get_data_info(2)['img_path'] == ds.get_data_info(3)['img_path']

    def epoch(e: int) -> list:
        seed_everything(epoch_seed(0, e, 0))  # what EpochSeedHook does
        return [ds[i]['offsets'] for i in range(len(ds))]

    e0, e1, e0_again = epoch(0), epoch(1), epoch(0)
    assert all(np.array_equal(a, b) for a, b in zip(e0, e0_again))
    assert not any(np.array_equal(a, b) for a, b in zip(e0, e1))
    # two pairs of the same image differ within an epoch
    assert not np.array_equal(e0[2], e0[3])
    # deterministic=True on a training set is the evaluation behaviour
    fixed = HomographyPairs(data_root=folder, deterministic=True)
    assert _same(fixed[0], HomographyPairs(data_root=folder,
                                           test_mode=True)[0])


def test_num_images_and_custom_geometry(folder):
    ds = HomographyPairs(data_root=folder, num_images=2, img_scale=(80, 60),
                         patch_size=32, rho=8, test_mode=True)
    assert len(ds) == 2
    r = ds[0]
    assert r['patch_a'].shape == r['patch_b'].shape == (32, 32)
    assert np.abs(r['offsets']).max() <= 8
    np.testing.assert_array_equal(r['corners'],
                                  patch_corners(*r['corners'][0], 32))


def test_errors_name_the_input(tmp_path, folder):
    empty = tmp_path / 'empty'
    (empty / 'sub').mkdir(parents=True)
    (empty / 'sub' / 'readme.txt').write_text('no images')
    with pytest.raises(FileNotFoundError, match='no image.*empty'):
        HomographyPairs(data_root=str(empty))
    with pytest.raises(FileNotFoundError, match='missing_dir.*does not exist'):
        HomographyPairs(data_root=str(tmp_path), data_prefix='missing_dir')
    bad = tmp_path / 'bad'
    bad.mkdir()
    (bad / 'broken.jpg').write_bytes(b'this is not a jpeg')
    ds = HomographyPairs(data_root=str(bad), test_mode=True)
    with pytest.raises(ValueError, match=r'cannot decode image .*broken\.jpg'):
        ds[0]
    ds_train = HomographyPairs(data_root=str(bad))  # no silent refetch
    with pytest.raises(ValueError, match=r'broken\.jpg'):
        ds_train[0]
    with pytest.raises(ValueError, match='smaller than patch_size'):
        HomographyPairs(data_root=folder, img_scale=(150, 240))
    with pytest.raises(ValueError, match="color_type='rgb'"):
        HomographyPairs(data_root=folder, color_type='rgb')
    with pytest.raises(ValueError, match='num_images=10 but .* only 4'):
        HomographyPairs(data_root=folder, num_images=10)
