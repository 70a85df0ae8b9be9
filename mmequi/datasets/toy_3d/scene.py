"""The toy 3DIEBench scene: classes, latents, camera, lights, conventions.

Everything a render depends on except the mesh: the latent layout and
ranges (:data:`LATENT_NAMES`, :data:`LATENT_RANGES`, :func:`sample_latents`),
the rotation and colour conventions (:func:`euler_xyz_to_matrix`,
:func:`hsv_to_rgb`), the pinhole camera (:func:`project`) and the light
weights.  The package docstring (``mmequi/datasets/toy_3d/__init__.py``)
describes the scene in words.
"""
import math
from typing import Tuple

import numpy as np

TOY_CLASSES: Tuple[str, ...] = (
    'airplane', 'chair', 'table', 'mug', 'lamp', 'arrow', 'l_shape',
    'pyramid', 'torus', 'cone', 'prism', 'capsule')
"""The shape classes; class index ``c`` has synset ``90000000 + c``."""

LATENT_NAMES: Tuple[str, ...] = ('rot_x', 'rot_y', 'rot_z', 'floor_hue',
                                 'spot_theta', 'spot_phi', 'spot_hue')
LATENT_RANGES: Tuple[Tuple[float, float], ...] = (
    (-math.pi / 2, math.pi / 2), (-math.pi / 2, math.pi / 2),
    (-math.pi / 2, math.pi / 2), (0.0, 1.0), (0.0, math.pi / 4),
    (0.0, 2 * math.pi), (0.0, 1.0))
"""Closed ``(low, high)`` interval of each latent (3DIEBench's ranges)."""

# Scene constants (world z up).  The test-suite recomputes the camera from
# these, so they are part of the documented behaviour.
CAMERA_DISTANCE = 2.5
CAMERA_POLAR = math.pi / 4       # from +z; the eye is on the +y side
FOV_TAN = 1.05 * math.tan(math.asin(1.0 / CAMERA_DISTANCE))
"""tan(half field of view): the unit sphere fills 1/1.05 of the frame."""
FLOOR_Z = -1.0
FLOOR_SV = (0.6, 0.6)            # floor HSV saturation, value
SPOT_DISTANCE = 4.0
SPOT_SV = (1.0, 0.8)             # spot HSV saturation, value
SPOT_CONE_DEG = (22.0, 32.0)     # full intensity inside, zero outside
AMBIENT, SUN, SPOT = 0.3, 0.3, 0.75   # object light weights
FLOOR_SPOT = 0.9                 # spot weight on the floor (white = 1)
SUN_DIR = np.array([-0.45, 0.55, 0.70]) / np.linalg.norm([-0.45, 0.55, 0.70])

_EYE = CAMERA_DISTANCE * np.array(
    [0.0, math.sin(CAMERA_POLAR), math.cos(CAMERA_POLAR)])
_FWD = -_EYE / np.linalg.norm(_EYE)
_RIGHT = np.cross(_FWD, [0.0, 0.0, 1.0])
_RIGHT /= np.linalg.norm(_RIGHT)
_UP = np.cross(_RIGHT, _FWD)


# --------------------------------------------------------------- maths
def euler_xyz_to_matrix(angles: np.ndarray) -> np.ndarray:
    """Extrinsic x-y-z Tait-Bryan angles to rotation matrices.

    Same convention as ``scipy.spatial.transform.Rotation.from_euler('xyz',
    angles)`` (lowercase = extrinsic) and 3DIEBench's latents: rotate about
    the fixed x axis by ``angles[..., 0]``, then fixed y, then fixed z, so
    ``R = Rz @ Ry @ Rx`` and a point maps as ``p' = R @ p``.

    Args:
        angles: (3,) or (N, 3) radians.

    Returns:
        (3, 3) or (N, 3, 3) float64 rotation matrices.
    """
    a = np.asarray(angles, dtype=np.float64)
    if a.shape[-1:] != (3,) or a.ndim not in (1, 2):
        raise ValueError(f'angles must have shape (3,) or (N, 3), got '
                         f'{a.shape}')
    cx, cy, cz = np.cos(a[..., 0]), np.cos(a[..., 1]), np.cos(a[..., 2])
    sx, sy, sz = np.sin(a[..., 0]), np.sin(a[..., 1]), np.sin(a[..., 2])
    r = np.empty(a.shape[:-1] + (3, 3))
    r[..., 0, 0] = cz * cy
    r[..., 0, 1] = cz * sy * sx - sz * cx
    r[..., 0, 2] = cz * sy * cx + sz * sx
    r[..., 1, 0] = sz * cy
    r[..., 1, 1] = sz * sy * sx + cz * cx
    r[..., 1, 2] = sz * sy * cx - cz * sx
    r[..., 2, 0] = -sy
    r[..., 2, 1] = cy * sx
    r[..., 2, 2] = cy * cx
    return r


def hsv_to_rgb(h: np.ndarray, s: np.ndarray, v: np.ndarray) -> np.ndarray:
    """HSV in [0, 1] (broadcastable arrays) to RGB in [0, 1], shape (..., 3).

    Same formula as :func:`colorsys.hsv_to_rgb`; hue wraps modulo 1.
    """
    h, s, v = np.broadcast_arrays(*(np.asarray(x, np.float64)
                                    for x in (h, s, v)))
    h6 = (h % 1.0) * 6.0
    i = np.floor(h6).astype(np.int64) % 6
    f = h6 - np.floor(h6)
    p, q, t = v * (1 - s), v * (1 - s * f), v * (1 - s * (1 - f))
    # sextant k -> (r, g, b), each (...)
    table = np.stack([np.stack(c, -1) for c in (
        (v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q))])
    return np.take_along_axis(table, i[None, ..., None], 0)[0] \
        if i.ndim else table[int(i)]


def _rotate(v: np.ndarray, r: np.ndarray) -> np.ndarray:
    """``v @ r.T`` without BLAS (bit-identical in every process)."""
    return (v[:, None, :] * r[None, :, :]).sum(-1)


def _dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` for (..., 3) x (3,) without BLAS."""
    return (a * b).sum(-1)


# --------------------------------------------------------------- camera
def project(points: np.ndarray, size: int) -> np.ndarray:
    """World points (N, 3) to pixel coordinates (N, 2) of a ``size`` px
    render: x right, y down, pixel (0, 0) covers [0, 1] x [0, 1]."""
    d = np.asarray(points, np.float64) - _EYE
    zc = _dot(d, _FWD)
    f = size / 2 / FOV_TAN
    return np.stack([size / 2 + f * _dot(d, _RIGHT) / zc,
                     size / 2 - f * _dot(d, _UP) / zc], 1)


# --------------------------------------------------------------- latents
def sample_latents(rng: np.random.Generator, n: int) -> np.ndarray:
    """(n, 7) float32 latents, uniform in :data:`LATENT_RANGES` (closed
    intervals: float32 rounding never leaves them)."""
    lo = np.array([r[0] for r in LATENT_RANGES])
    hi = np.array([r[1] for r in LATENT_RANGES])
    lat = (lo + (hi - lo) * rng.random((n, 7))).astype(np.float32)
    lo32 = np.where(lo.astype(np.float32) < lo,
                    np.nextafter(lo.astype(np.float32), np.float32(np.inf)),
                    lo.astype(np.float32))
    hi32 = np.where(hi.astype(np.float32) > hi,
                    np.nextafter(hi.astype(np.float32), np.float32(-np.inf)),
                    hi.astype(np.float32))
    return np.clip(lat, lo32, hi32).astype(np.float32)
