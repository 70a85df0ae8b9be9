"""Toy 3DIEBench scene conventions: rotations, colours, latent sampling."""
import colorsys

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from mmequi.datasets.toy_3d import (LATENT_RANGES, euler_xyz_to_matrix,
                                    hsv_to_rgb, sample_latents)


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
