"""A procedural, laptop-sized stand-in for 3DIEBench in its exact layout.

3DIEBench (Garrido, Najman & LeCun, "Self-supervised learning of split
invariant equivariant representations", ICML 2023; data and generator at
https://github.com/facebookresearch/SIE, ``data/README.md``) renders
ShapeNet objects under random 3D rotations, floor colours and spot lights
(17 GB).  This module generates the same on-disk layout from procedural
meshes drawn by a small numpy rasteriser, so the equivariance demo and the
tests run anywhere in seconds::

    ROOT/<synset>/<object>/image_{i}.jpg    (size x size RGB JPEG)
    ROOT/<synset>/<object>/latent_{i}.npy   (7 float32, see below)
    ROOT/{train,val}_images.npy             (str, '/<synset>/<object>/')
    ROOT/{train,val}_labels.npy             (int64 class index 0..C-1)

Latent vector (ranges as documented in SIE's ``data/README.md``; every
value is drawn uniformly and independently per view)::

    [rot_x, rot_y, rot_z]  in [-pi/2, pi/2]   Tait-Bryan, EXTRINSIC 'xyz':
                                              R = Rz @ Ry @ Rx, i.e.
                                              scipy Rotation.from_euler('xyz')
    floor_hue              in [0, 1]          floor = HSV(hue, 0.6, 0.6)
    spot_theta             in [0, pi/4]       polar angle of the spot light
    spot_phi               in [0, 2 pi]       azimuth of the spot light
    spot_hue               in [0, 1]          spot colour = HSV(hue, 1, 0.8)

Scene (following the 3DIEBench scene description; world z is up): the
object (normalised into the unit sphere, centred at the origin) is rotated
by ``R`` about the origin; a pinhole camera at distance 2.5, polar angle
pi/4, on the +y side looks at the origin with a field of view that fits
the unit sphere with 5 % margin; the floor is the plane z = -1 and fills
the whole background; a spot light at distance 4 in direction
(theta, phi) points at the origin (smooth cone, half-angle 22-32 deg, so
the object is always fully inside it and it casts a tinted pool and a hard
shadow on the floor); a fixed white "sun" and white ambient term complete
the Lambert shading of the object.  Outside the spot's pool the floor is
exactly HSV(floor_hue, 0.6, 0.6).

Synset ids are ``f'{90000000 + class_index:08d}'`` ('90000000' is
``TOY_CLASSES[0]``), object ids are 32 hex digits (md5 of seed, class and
object index), so they look like ShapeNet's.  Latents are stored as
float32 (3DIEBench stores float64; its loader casts to float32) and images
are rendered from the float32 values, so the stored latent describes the
stored image exactly.

The rasteriser draws triangle meshes with back-face culling and a
z-buffer, vectorised as (triangle, row) spans expanded to covered pixels
(no Python loop over pixels or triangles).  The object layer is rendered
at ``supersample`` x the output size and reduced with ``cv2.INTER_AREA``
(colour and coverage), then composited over the floor, which is smooth and
is lit (spot pool, shadow) at the output size.  Only numpy and OpenCV are
used; no BLAS call is made, so the bytes do not depend on thread counts.
"""
import colorsys
import hashlib
import math
import multiprocessing as mp
import os
import os.path as osp
import sys
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

import cv2
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

SYNSET_BASE = 90000000

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
JPEG_QUALITY = 95

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


# --------------------------------------------------------------- meshes
@dataclass(frozen=True)
class Mesh:
    """A closed triangle mesh with one albedo colour per face.

    Attributes:
        vertices: (V, 3) float64, object frame (z up).
        faces: (F, 3) int64 vertex indices, counter-clockwise seen from
            outside (right-hand normal points outwards).
        face_colors: (F, 3) float64 RGB albedo in [0, 1].
    """
    vertices: np.ndarray
    faces: np.ndarray
    face_colors: np.ndarray

    def __post_init__(self) -> None:
        v, f, c = (np.asarray(x) for x in (self.vertices, self.faces,
                                           self.face_colors))
        if v.ndim != 2 or v.shape[1] != 3 or f.ndim != 2 or f.shape[1] != 3 \
                or c.shape != f.shape:
            raise ValueError(f'Mesh needs vertices (V, 3), faces (F, 3) and '
                             f'face_colors (F, 3); got {v.shape}, {f.shape}, '
                             f'{c.shape}')
        if f.size and (f.min() < 0 or f.max() >= len(v)):
            raise ValueError(f'Mesh faces index vertices 0..{len(v) - 1}, '
                             f'got {f.min()}..{f.max()}')


_Part = Tuple[np.ndarray, np.ndarray, np.ndarray]   # (V,3), (F,3), (F,3)


def _rx(a: float) -> np.ndarray:
    return euler_xyz_to_matrix([a, 0.0, 0.0])


def _ry(a: float) -> np.ndarray:
    return euler_xyz_to_matrix([0.0, a, 0.0])


def _rz(a: float) -> np.ndarray:
    return euler_xyz_to_matrix([0.0, 0.0, a])


_CUBE_V = np.array([[x, y, z] for z in (-.5, .5) for y in (-.5, .5)
                    for x in (-.5, .5)])          # index = x + 2y + 4z
_CUBE_F = np.array([[0, 2, 1], [1, 2, 3], [4, 5, 6], [5, 7, 6],
                    [0, 1, 5], [0, 5, 4], [2, 6, 7], [2, 7, 3],
                    [0, 4, 6], [0, 6, 2], [1, 3, 7], [1, 7, 5]])


def _box(size: Sequence[float]) -> Tuple[np.ndarray, np.ndarray]:
    """Axis-aligned box centred at the origin, (8, 3) and (12, 3)."""
    return _CUBE_V * np.asarray(size, np.float64), _CUBE_F.copy()


def _lathe(r: Sequence[float], z: Sequence[float], n: int,
           phase: float = 0.0) -> Tuple[np.ndarray, np.ndarray]:
    """Surface of revolution about z of the profile ``(r[i], z[i])``.

    The profile runs from bottom to top; ``r == 0`` ends become a single
    apex vertex, ``r > 0`` ends are closed with a flat cap.  ``n`` sectors,
    the first one starting at angle ``phase``.
    """
    r = np.asarray(r, np.float64)
    z = np.asarray(z, np.float64)
    ang = phase + 2 * np.pi * np.arange(n) / n
    verts: List[np.ndarray] = []
    rings = []
    count = 0
    for ri, zi in zip(r, z):
        if ri == 0:
            verts.append(np.array([[0.0, 0.0, zi]]))
            rings.append(np.full(n, count))
            count += 1
        else:
            verts.append(np.stack([ri * np.cos(ang), ri * np.sin(ang),
                                   np.full(n, zi)], 1))
            rings.append(count + np.arange(n))
            count += n
    j, j1 = np.arange(n), (np.arange(n) + 1) % n
    faces = []
    for i in range(len(r) - 1):
        a, b = rings[i][j], rings[i][j1]
        c, d = rings[i + 1][j1], rings[i + 1][j]
        if r[i] != 0:
            faces.append(np.stack([a, b, c], 1))
        if r[i + 1] != 0:
            faces.append(np.stack([a, c, d], 1))
    if r[0] != 0:
        verts.append(np.array([[0.0, 0.0, z[0]]]))
        faces.append(np.stack([np.full(n, count), rings[0][j1],
                               rings[0][j]], 1))
        count += 1
    if r[-1] != 0:
        verts.append(np.array([[0.0, 0.0, z[-1]]]))
        faces.append(np.stack([np.full(n, count), rings[-1][j],
                               rings[-1][j1]], 1))
    return np.concatenate(verts), np.concatenate(faces)


def _torus(big: float, small: float, nu: int, nv: int,
           arc: Optional[Tuple[float, float]] = None
           ) -> Tuple[np.ndarray, np.ndarray]:
    """Torus about z (radii ``big`` > ``small``); ``arc=(u0, u1)`` keeps
    only that range of the major angle and caps both ends."""
    if arc is None:
        u = 2 * np.pi * np.arange(nu) / nu
        nr = nu
    else:
        u = np.linspace(arc[0], arc[1], nu + 1)
        nr = nu + 1
    v = 2 * np.pi * np.arange(nv) / nv
    uu, vv = np.meshgrid(u, v, indexing='ij')
    ring = big + small * np.cos(vv)
    verts = np.stack([ring * np.cos(uu), ring * np.sin(uu),
                      small * np.sin(vv)], -1).reshape(-1, 3)
    idx = np.arange(nr * nv).reshape(nr, nv)
    i = np.arange(nu)
    i1 = (i + 1) % nr
    j, j1 = np.arange(nv), (np.arange(nv) + 1) % nv
    a, b = idx[i][:, j], idx[i1][:, j]
    c, d = idx[i1][:, j1], idx[i][:, j1]
    faces = [np.stack([a, b, c], -1).reshape(-1, 3),
             np.stack([a, c, d], -1).reshape(-1, 3)]
    if arc is not None:
        n0 = len(verts)
        centres = np.array([[big * np.cos(u[0]), big * np.sin(u[0]), 0.0],
                            [big * np.cos(u[-1]), big * np.sin(u[-1]), 0.0]])
        verts = np.concatenate([verts, centres])
        faces.append(np.stack([np.full(nv, n0), idx[0, j], idx[0, j1]], 1))
        faces.append(np.stack([np.full(nv, n0 + 1), idx[-1, j1],
                               idx[-1, j]], 1))
    return verts, np.concatenate(faces)


def _sphere_profile(k: int) -> Tuple[np.ndarray, np.ndarray]:
    a = np.linspace(-np.pi / 2, np.pi / 2, k + 1)
    r = np.cos(a)
    r[0] = r[-1] = 0.0
    return r, np.sin(a)


def _place(vf: Tuple[np.ndarray, np.ndarray], color,
           rot: Optional[np.ndarray] = None,
           at: Sequence[float] = (0.0, 0.0, 0.0)) -> _Part:
    """Rotate (about the part origin), translate and colour a part.

    ``color`` is one RGB colour or a callable ``(centroids, normals) ->
    (F, 3)`` evaluated in the part's own frame (before placement).
    """
    v, f = vf
    if callable(color):
        p = v[f]
        cen = p.mean(1)
        nrm = np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0])
        nrm /= np.linalg.norm(nrm, axis=1, keepdims=True) + 1e-300
        cols = np.asarray(color(cen, nrm), np.float64)
    else:
        cols = np.tile(np.asarray(color, np.float64), (len(f), 1))
    if rot is not None:
        v = _rotate(v, rot)
    return v + np.asarray(at, np.float64), f.astype(np.int64), cols


def _sectors(base, bands: Sequence[Tuple[float, float, np.ndarray]],
             caps: Optional[Dict[str, np.ndarray]] = None) -> Callable:
    """Colour faces by azimuth band (degrees, [lo, hi)) and cap normal."""
    def fn(cen: np.ndarray, nrm: np.ndarray) -> np.ndarray:
        out = np.tile(np.asarray(base, np.float64), (len(cen), 1))
        az = np.degrees(np.arctan2(cen[:, 1], cen[:, 0])) % 360.0
        for lo, hi, col in bands:
            out[(az >= lo) & (az < hi)] = col
        for key, col in (caps or {}).items():
            m = nrm[:, 2] > 0.99 if key == 'top' else nrm[:, 2] < -0.99
            out[m] = col
        return out
    return fn


def _palette(rng: np.random.Generator, k: int) -> np.ndarray:
    """``k`` albedo colours with well separated hues, (k, 3) RGB."""
    hues = (rng.uniform() + np.arange(k) / k
            + rng.uniform(-0.25 / k, 0.25 / k, k)) % 1.0
    hues = rng.permutation(hues)
    return hsv_to_rgb(hues, rng.uniform(0.45, 0.85, k),
                      rng.uniform(0.6, 0.95, k))


def _airplane(u, c) -> List[_Part]:
    length, rf = u(1.6, 2.2), u(0.09, 0.14)
    prof_z = np.array([-.5, -.45, -.2, .25, .4, .47, .5]) * length
    prof_r = np.array([.35, .55, 1., 1., .8, .45, 0.]) * rf
    nose_x = _ry(np.pi / 2)                      # lathe z axis -> +x
    span, chord, sweep = u(1.3, 1.9), u(0.22, 0.36), np.radians(u(0, 25))
    wx, wz = u(-0.05, 0.1) * length, -0.3 * rf
    fin_c, fin_h = u(0.18, 0.28), u(0.25, 0.4)
    tail_x = -length / 2 + fin_c / 2 + 0.02
    parts = [_place(_lathe(prof_r, prof_z, 16), c[0], nose_x)]
    for side in (1, -1):
        parts.append(_place(_box((chord, span / 2, 0.035)), c[1],
                            _rz(side * sweep),
                            (wx - np.sin(sweep) * span / 4,
                             side * np.cos(sweep) * span / 4, wz)))
    parts.append(_place(_box((fin_c, 0.03, fin_h)), c[2], None,
                        (tail_x, 0, 0.5 * rf + fin_h / 2)))
    parts.append(_place(_box((fin_c * 0.8, u(0.45, 0.7), 0.03)), c[1], None,
                        (tail_x, 0, 0.2 * rf)))
    cr, cz = _sphere_profile(6)
    cockpit = _lathe(cr, cz, 12)
    cockpit = (cockpit[0] * [0.6 * rf, 0.6 * rf, 0.12 * length], cockpit[1])
    parts.append(_place(cockpit, c[3], nose_x, (0.3 * length, 0, 0.7 * rf)))
    return parts


def _chair(u, c) -> List[_Part]:
    legh, w, d, ts = u(0.7, 1.0), u(0.8, 1.1), u(0.8, 1.1), u(0.08, 0.12)
    backh, tb, tl = u(0.7, 1.2), u(0.06, 0.1), u(0.06, 0.1)
    parts = [_place(_box((w, d, ts)), c[0], None, (0, 0, legh + ts / 2)),
             _place(_box((tb, d, backh)), c[1], None,
                    (-w / 2 + tb / 2, 0, legh + ts + backh / 2))]
    for sx in (-1, 1):
        for sy in (-1, 1):
            parts.append(_place(_box((tl, tl, legh)), c[2], None,
                                (sx * (w - tl) / 2, sy * (d - tl) / 2,
                                 legh / 2)))
    return parts


def _table(u, c) -> List[_Part]:
    w, d, tt = u(1.3, 1.9), u(0.6, 1.0), u(0.06, 0.1)
    tl, legh = u(0.07, 0.12), u(0.6, 0.9)
    parts = [_place(_box((w, d, tt)), c[0], None, (0, 0, legh + tt / 2))]
    for sx in (-1, 1):
        for sy in (-1, 1):
            parts.append(_place(_box((tl, tl, legh)), c[1], None,
                                (sx * (w - tl) / 2, sy * (d - tl) / 2,
                                 legh / 2)))
    dw, dd, dh = u(0.3, 0.5) * w, u(0.25, 0.4) * d, u(0.12, 0.2)
    dx = u(-0.2, 0.2) * w
    dy = d / 2 - tl - dd / 2
    parts.append(_place(_box((dw, dd, dh)), c[2], None,
                        (dx, dy, legh - dh / 2)))
    parts.append(_place(_box((0.06, 0.04, 0.04)), c[3], None,
                        (dx, dy + dd / 2 + 0.02, legh - dh / 2)))
    return parts


def _mug(u, c) -> List[_Part]:
    r, h = u(0.35, 0.5), u(0.7, 1.1)
    rh = u(0.05, 0.08)
    big = u(0.25, 0.4) * h
    big = min(big, h / 2 - rh - 0.02)
    dark = c[1] * 0.45
    body = _place(_lathe([r, r], [-h / 2, h / 2], 24),
                  _sectors(c[0], [], {'top': dark}))
    handle = _place(_torus(big, rh, 10, 8, (-np.pi / 2, np.pi / 2)), c[2],
                    _rx(np.pi / 2), (r - 0.5 * rh, 0, 0))
    return [body, handle]


def _lamp(u, c) -> List[_Part]:
    rb, hb = u(0.3, 0.45), u(0.05, 0.09)
    rp, hp = u(0.025, 0.04), u(0.8, 1.2)
    la = u(0.3, 0.6)
    top = hb + hp
    r0, r1, hs = u(0.2, 0.3), u(0.06, 0.12), u(0.2, 0.35)
    tilt = np.radians(u(10, 35))
    return [
        _place(_lathe([rb, rb], [0, hb], 20), c[0]),
        _place(_lathe([rp, rp], [hb, top], 8), c[1]),
        _place(_box((la, 0.05, 0.05)), c[1], None, (la / 2, 0, top)),
        _place(_lathe([r0, r1], [-hs / 2, hs / 2], 16),
               _sectors(c[2], [], {'bottom': c[3]}), _ry(tilt),
               (la, 0, top - hs / 2 + 0.03)),
    ]


def _arrow(u, c) -> List[_Part]:
    ls, r = u(1.4, 2.0), u(0.035, 0.055)
    rh, lh = u(0.11, 0.17), u(0.28, 0.42)
    lf, hf = u(0.25, 0.4), u(0.1, 0.16)
    along_x = _ry(np.pi / 2)
    parts = [_place(_lathe([r, r], [-ls / 2, ls / 2], 10), c[0], along_x),
             _place(_lathe([rh, 0], [0, lh], 16), c[1], along_x,
                    (ls / 2, 0, 0))]
    for k, col in enumerate((c[3], c[2], c[2])):
        fin = _place(_box((lf, 0.02, hf)), col, None,
                     (-ls / 2 + lf / 2 + 0.03, 0, r + hf / 2 - 0.01))
        parts.append(_place(fin[:2], fin[2][0], _rx(2 * np.pi * k / 3)))
    return parts


def _l_shape(u, c) -> List[_Part]:
    a, t1, dep = u(1.0, 1.6), u(0.25, 0.4), u(0.25, 0.5)
    t2, b = u(0.25, 0.4), u(0.6, 1.2)
    return [_place(_box((a, dep, t1)), c[0], None, (0, 0, t1 / 2)),
            _place(_box((t2, dep, b)), c[1], None,
                   (a / 2 - t2 / 2, 0, t1 + b / 2))]


def _pyramid(u, c) -> List[_Part]:
    rad, h = u(0.6, 0.9), u(0.7, 1.3)
    v, f = _lathe([rad, 0], [-h / 2, h / 2], 4, phase=np.pi / 4)
    v = v * [u(0.75, 1.3), 1.0, 1.0]
    return [_place((v, f), _sectors(c[0], [(-1, 10, c[1]), (350, 361, c[1])],
                                    {'bottom': c[2]}))]


def _torus_cls(u, c) -> List[_Part]:
    big, small = u(0.55, 0.75), u(0.15, 0.3)
    return [_place(_torus(big, small, 24, 10),
                   _sectors(c[0], [(0, 90, c[1]), (90, 180, c[2])]))]


def _cone(u, c) -> List[_Part]:
    rad, h = u(0.4, 0.7), u(0.9, 1.5)
    return [_place(_lathe([rad, 0], [-h / 2, h / 2], 20),
                   _sectors(c[0], [(0, 90, c[1])], {'bottom': c[2]}))]


def _prism(u, c) -> List[_Part]:
    rad, ln = u(0.35, 0.6), u(1.0, 1.6)
    v, f = _lathe([rad, rad], [-ln / 2, ln / 2], 3)
    v = v * [u(0.7, 1.4), 1.0, 1.0]
    col = _sectors(c[0], [(170, 190, c[3])], {'top': c[1], 'bottom': c[2]})
    return [_place((v, f), col, _ry(np.pi / 2))]


def _capsule(u, c) -> List[_Part]:
    rad, ln = u(0.25, 0.4), u(0.8, 1.4)
    a = np.linspace(-np.pi / 2, np.pi / 2, 9)
    r = rad * np.cos(a)
    r[0] = r[-1] = 0.0
    z = rad * np.sin(a) + np.where(a < 0, -ln / 2, ln / 2)
    r = np.concatenate([r[:5], r[4:]])          # duplicate the equator
    z = np.concatenate([z[:4], [-ln / 2, ln / 2], z[5:]])

    def col(cen, nrm):
        out = np.where(cen[:, 2:] < 0, c[0], c[1])
        az = np.degrees(np.arctan2(cen[:, 1], cen[:, 0])) % 360.0
        out[(cen[:, 2] > 0) & (az < 60)] = c[2]
        return out
    return [_place(_lathe(r, z, 16), col, _ry(np.pi / 2))]


_BUILDERS: Dict[str, Callable] = {
    'airplane': _airplane, 'chair': _chair, 'table': _table, 'mug': _mug,
    'lamp': _lamp, 'arrow': _arrow, 'l_shape': _l_shape,
    'pyramid': _pyramid, 'torus': _torus_cls, 'cone': _cone,
    'prism': _prism, 'capsule': _capsule}
assert tuple(_BUILDERS) == TOY_CLASSES


def make_mesh(class_name: str, rng: np.random.Generator) -> Mesh:
    """One random object of ``class_name`` (proportions and part colours
    drawn from ``rng``), centred on its bounding box and scaled so that
    its farthest vertex lies on the unit sphere.

    Every class has parts in different colours (or colour-coded faces), so
    that no non-trivial rotation maps an object onto itself.

    Returns:
        :class:`Mesh` with (V, 3) vertices, (F, 3) outward faces and
        (F, 3) albedo.
    """
    if class_name not in _BUILDERS:
        raise ValueError(f'unknown class {class_name!r}; choose from '
                         f'{TOY_CLASSES}')
    colors = _palette(rng, 4)

    def u(lo: float, hi: float) -> float:
        return float(rng.uniform(lo, hi))

    parts = _BUILDERS[class_name](u, colors)
    verts, faces, cols, off = [], [], [], 0
    for v, f, col in parts:
        verts.append(v)
        faces.append(f + off)
        cols.append(col)
        off += len(v)
    v = np.concatenate(verts)
    v = v - (v.min(0) + v.max(0)) / 2
    v = v / np.sqrt((v ** 2).sum(1)).max()
    return Mesh(v, np.concatenate(faces).astype(np.int64),
                np.clip(np.concatenate(cols), 0.0, 1.0))


# --------------------------------------------------------------- camera
def project(points: np.ndarray, size: int) -> np.ndarray:
    """World points (N, 3) to pixel coordinates (N, 2) of a ``size`` px
    render: x right, y down, pixel (0, 0) covers [0, 1] x [0, 1]."""
    d = np.asarray(points, np.float64) - _EYE
    zc = _dot(d, _FWD)
    f = size / 2 / FOV_TAN
    return np.stack([size / 2 + f * _dot(d, _RIGHT) / zc,
                     size / 2 - f * _dot(d, _UP) / zc], 1)


@lru_cache(maxsize=8)
def _grid(s: int) -> Tuple[np.ndarray, np.ndarray]:
    """Per-pixel ray directions (unit forward component, float64) and the
    floor points they hit (float32), both (3, s*s) (x, y, z rows), for an
    s x s image."""
    c = (np.arange(s) + 0.5 - s / 2) * (FOV_TAN * 2 / s)
    yy, xx = np.meshgrid(-c, c, indexing='ij')
    ray = (_RIGHT[:, None] * xx.reshape(1, -1) + _UP[:, None]
           * yy.reshape(1, -1) + _FWD[:, None])
    t = (FLOOR_Z - _EYE[2]) / ray[2]
    if np.any(t <= 0):
        raise RuntimeError('camera sees above the horizon; the floor must '
                           'fill the frame')
    floor = (_EYE[:, None] + ray * t).astype(np.float32)
    ray.setflags(write=False)
    floor.setflags(write=False)
    return ray, floor


def _coverage(x: np.ndarray, y: np.ndarray, s: int,
              iz: Optional[np.ndarray] = None
              ) -> Tuple[np.ndarray, np.ndarray, Optional[np.ndarray]]:
    """Pixels (centres at +0.5) inside the screen triangles, by scanline.

    Each triangle is cut into rows; on a row the three edge functions give
    the exact span of covered pixel centres, so only covered pixels are
    expanded (no per-pixel inside test, no Python loop).

    Args:
        x, y: (F, 3) screen coordinates of the triangle corners.
        s: image side in pixels.
        iz: optional (F, 3) per-corner 1/depth, interpolated linearly in
            screen space (exact for a pinhole camera).

    Returns:
        pix (N,) flat pixel index, tri (N,) triangle index, and the
        interpolated 1/depth (N,) if ``iz`` was given; one entry per
        (pixel, covering triangle) pair.
    """
    area = ((x[:, 1] - x[:, 0]) * (y[:, 2] - y[:, 0])
            - (x[:, 2] - x[:, 0]) * (y[:, 1] - y[:, 0]))
    j0 = np.ceil(y.min(1) - 0.5).clip(0, s)
    j1 = np.floor(y.max(1) - 0.5).clip(-1, s - 1)
    h = (j1 - j0 + 1).astype(np.int64)
    keep = np.flatnonzero((h > 0) & (np.abs(area) > 1e-12)
                          & (x.max(1) > 0) & (x.min(1) < s))
    x, y, area, h, j0 = x[keep], y[keep], area[keep], h[keep], j0[keep]
    # barycentric of corner k: w_k = ca_k px + cb_k py + cc_k (>= 0 inside)
    xa, ya = x[:, [1, 2, 0]], y[:, [1, 2, 0]]
    xb, yb = x[:, [2, 0, 1]], y[:, [2, 0, 1]]
    ca = -(yb - ya) / area[:, None]
    cb = (xb - xa) / area[:, None]
    cc = ((yb - ya) * xa - (xb - xa) * ya) / area[:, None]
    # stage 1: (triangle, row) pairs and their covered spans
    tri = np.repeat(np.arange(len(h)), h)
    row = j0[tri] + (np.arange(tri.size) - np.repeat(np.cumsum(h) - h, h))
    yc = row + 0.5
    a = ca[tri]
    rhs = -(cb[tri] * yc[:, None] + cc[tri])          # need a * x >= rhs
    with np.errstate(divide='ignore', invalid='ignore'):
        bound = rhs / a
    lo = np.where(a > 0, bound, -np.inf).max(1)
    hi = np.where(a < 0, bound, np.inf).min(1)
    flat_out = ((a == 0) & (rhs > 1e-12)).any(1)
    i0 = np.ceil(lo - 0.5 - 1e-9).clip(0, s)
    i1 = np.floor(hi - 0.5 + 1e-9).clip(-1, s - 1)
    n = (i1 - i0 + 1).clip(0, None).astype(np.int64)
    n[flat_out] = 0
    # stage 2: pixels of every span
    r = np.repeat(np.arange(n.size), n)
    local = np.arange(r.size) - np.repeat(np.cumsum(n) - n, n)
    px = i0.astype(np.int64)[r] + local
    pix = row.astype(np.int64)[r] * s + px
    if iz is None:
        return pix, keep[tri[r]], None
    izk = iz[keep]
    da = (ca * izk).sum(1)[tri]                       # d(1/z)/dx per row
    at0 = da * (i0 + 0.5) + ((cb * izk).sum(1)[tri] * yc
                             + (cc * izk).sum(1)[tri])
    return pix, keep[tri[r]], at0[r] + da[r] * local


def _smoothstep(e0: float, e1: float, x: np.ndarray) -> np.ndarray:
    t = np.clip((x - e0) / (e1 - e0), 0.0, 1.0)
    return t * t * (3 - 2 * t)


def render(mesh: Mesh, latent: np.ndarray, size: int = 64,
           return_mask: bool = False, supersample: int = 2,
           shadows: bool = True
           ) -> Union[np.ndarray, Tuple[np.ndarray, np.ndarray]]:
    """Render ``mesh`` under a 3DIEBench latent (see the module docstring).

    Args:
        mesh: the object, in its canonical frame.
        latent: (7,) ``[rot_x, rot_y, rot_z, floor_hue, spot_theta,
            spot_phi, spot_hue]``; the object is rotated by
            ``euler_xyz_to_matrix(latent[:3])`` about the origin.
        size: output side in pixels.
        return_mask: also return the object silhouette.
        supersample: render at ``supersample * size`` and reduce with
            ``cv2.INTER_AREA`` (antialiasing); 1 disables it.
        shadows: cast the spot light's shadow on the floor.

    Returns:
        (size, size, 3) uint8 RGB image and, if ``return_mask``, the
        (size, size) bool silhouette (pixels at least half covered).
    """
    lat = np.asarray(latent, np.float64)
    if lat.shape != (7,) or not np.all(np.isfinite(lat)):
        raise ValueError(f'latent must be 7 finite floats, got shape '
                         f'{lat.shape}: {lat}')
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) \
            or size < 1 or not isinstance(supersample, (int, np.integer)) \
            or supersample < 1:
        raise ValueError(f'size={size!r} and supersample={supersample!r} '
                         'must be positive integers')
    size, supersample = int(size), int(supersample)
    s = size * supersample
    ray, _ = _grid(s)
    foc = s / 2 / FOV_TAN

    v = _rotate(np.asarray(mesh.vertices, np.float64),
                euler_xyz_to_matrix(lat[:3]))
    faces = np.asarray(mesh.faces)
    tv = v[faces]                                        # (F, 3, 3)
    nrm = np.cross(tv[:, 1] - tv[:, 0], tv[:, 2] - tv[:, 0])
    nrm /= np.sqrt((nrm ** 2).sum(1))[:, None] + 1e-300
    front = np.flatnonzero(((_EYE - tv[:, 0]) * nrm).sum(1) > 0)
    d = v - _EYE
    zc = _dot(d, _FWD)
    if np.any(zc <= 1e-6):
        raise ValueError('mesh reaches behind the camera; vertices must '
                         'lie within the unit sphere')
    vx = s / 2 + foc * _dot(d, _RIGHT) / zc
    vy = s / 2 - foc * _dot(d, _UP) / zc
    ff = faces[front]
    pix, tri, iz = _coverage(vx[ff], vy[ff], s, 1.0 / zc[ff])
    # z-buffer: per pixel keep the largest 1/depth (iz in (0, 1) here)
    order = np.argsort(pix + 0.5 * (1.0 - iz), kind='stable')
    ps = pix[order]
    first = np.ones(ps.size, bool)
    first[1:] = ps[1:] != ps[:-1]
    sel = order[first]
    pix, tri, depth = pix[sel], front[tri[sel]], 1.0 / iz[sel]

    st, sp = float(lat[4]), float(lat[5])
    spot_dir = np.array([math.sin(st) * math.cos(sp),
                         math.sin(st) * math.sin(sp), math.cos(st)])
    spot_pos = SPOT_DISTANCE * spot_dir
    spot_rgb = np.array(colorsys.hsv_to_rgb(float(lat[6]) % 1.0, *SPOT_SV))
    floor_rgb = np.array(colorsys.hsv_to_rgb(float(lat[3]) % 1.0,
                                             *FLOOR_SV))
    cos_in, cos_out = (math.cos(math.radians(a)) for a in SPOT_CONE_DEG)

    # object layer at s x s: Lambert (ambient + white sun + coloured spot)
    r = ray[:, pix]
    lx = spot_pos[0] - (_EYE[0] + r[0] * depth)
    ly = spot_pos[1] - (_EYE[1] + r[1] * depth)
    lz = spot_pos[2] - (_EYE[2] + r[2] * depth)
    inv = 1.0 / np.sqrt(lx * lx + ly * ly + lz * lz)
    n = nrm[tri]
    ndl = (n[:, 0] * lx + n[:, 1] * ly + n[:, 2] * lz) * inv
    cone = _smoothstep(cos_out, cos_in, (lx * spot_dir[0] + ly * spot_dir[1]
                                         + lz * spot_dir[2]) * inv)
    ndl = np.clip(ndl, 0, None) * cone
    nds = np.clip(_dot(n, SUN_DIR), 0, None)
    obj = np.zeros((s * s, 3), np.float32)
    obj[pix] = np.asarray(mesh.face_colors, np.float64)[tri] * (
        AMBIENT + SUN * nds[:, None] + SPOT * ndl[:, None] * spot_rgb)
    np.clip(obj, 0.0, 1.0, out=obj)
    cov = np.zeros(s * s, np.float32)
    cov[pix] = 1.0
    obj, cov = obj.reshape(s, s, 3), cov.reshape(s, s)
    if supersample > 1:
        obj = cv2.resize(obj, (size, size), interpolation=cv2.INTER_AREA)
        cov = cv2.resize(cov, (size, size), interpolation=cv2.INTER_AREA)

    # floor layer (normal +z) at the output size, where it is smooth:
    # white-lit HSV(floor_hue, .6, .6) plus the spot's pool, minus shadow
    _, floor = _grid(size)
    fx = np.float32(spot_pos[0]) - floor[0]
    fy = np.float32(spot_pos[1]) - floor[1]
    fz = np.float32(spot_pos[2] - FLOOR_Z)
    inv = 1.0 / np.sqrt(fx * fx + fy * fy + fz * fz)
    lit = (fz * inv) * _smoothstep(
        np.float32(cos_out), np.float32(cos_in),
        (fx * np.float32(spot_dir[0]) + fy * np.float32(spot_dir[1])
         + fz * np.float32(spot_dir[2])) * inv)
    if shadows:
        # light-facing triangles projected from the spot onto the floor
        lf = ((spot_pos - tv[:, 0]) * nrm).sum(1) > 0
        t = (FLOOR_Z - spot_pos[2]) / (v[:, 2] - spot_pos[2])
        dq = spot_pos + (v - spot_pos) * t[:, None] - _EYE
        zq = _dot(dq, _FWD)
        fo = size / 2 / FOV_TAN
        fl = faces[lf]
        spix, _, _ = _coverage((size / 2 + fo * _dot(dq, _RIGHT) / zq)[fl],
                               (size / 2 - fo * _dot(dq, _UP) / zq)[fl], size)
        lit[spix] = 0.0
    bg = np.outer(lit, (FLOOR_SPOT * floor_rgb * spot_rgb).astype(
        np.float32))
    bg += floor_rgb.astype(np.float32)
    np.clip(bg, 0.0, 1.0, out=bg)

    img = obj + (1.0 - cov)[..., None] * bg.reshape(size, size, 3)
    out = np.clip(np.rint(img * 255.0), 0, 255).astype(np.uint8)
    return (out, cov >= 0.5) if return_mask else out


# --------------------------------------------------------------- data set
def toy_synset(class_index: int) -> str:
    """8-digit synset id of ``TOY_CLASSES[class_index]``."""
    return f'{SYNSET_BASE + int(class_index):08d}'


def _object_id(seed: int, class_index: int, k: int) -> str:
    key = f'mmequi-toy3d/{seed}/{TOY_CLASSES[class_index]}/{k}'
    return hashlib.md5(key.encode()).hexdigest()


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


def _write_object(job: Tuple) -> int:
    """Render and write one object's views; returns the image count."""
    out, c, k, seed, views, size = job
    folder = osp.join(out, toy_synset(c), _object_id(seed, c, k))
    os.makedirs(folder)
    mesh = make_mesh(TOY_CLASSES[c], np.random.default_rng([seed, c, k, 0]))
    lats = sample_latents(np.random.default_rng([seed, c, k, 1]), views)
    for i, lat in enumerate(lats):
        rgb = render(mesh, lat.astype(np.float64), size)
        ok, buf = cv2.imencode('.jpg', cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR),
                               [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
        if not ok:
            raise RuntimeError(f'JPEG encoding failed for {folder} view {i}')
        with open(osp.join(folder, f'image_{i}.jpg'), 'wb') as fh:
            fh.write(buf.tobytes())
        np.save(osp.join(folder, f'latent_{i}.npy'), lat)
    return views


def _worker_init() -> None:
    # one thread per worker: the parallelism is across objects. The
    # renderer makes no BLAS or torch call; the variables cover libraries
    # loaded later. Thread pools the parent already started (torch's
    # OpenMP, OpenCV's) must not be touched in a forked child: resizing them
    # there hangs (seen with torch.set_num_threads after the parent had run
    # torch ops), so nothing is called on torch or cv2 here.
    for var in ('OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS'):
        os.environ[var] = '1'


def _check_int(name: str, value, lo: int, hi: Optional[int] = None) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) \
            or value < lo or (hi is not None and value > hi):
        rng = f'{lo}..{hi}' if hi is not None else f'>= {lo}'
        raise ValueError(f'{name}={value!r}: must be an integer in {rng}')
    return int(value)


def make_toy_3diebench(out: str,
                       classes: int = 10,
                       objects_per_class: int = 40,
                       views: int = 10,
                       size: int = 64,
                       seed: int = 0,
                       val_fraction: float = 0.2,
                       workers: Optional[int] = None,
                       progress: bool = False) -> Dict[str, float]:
    """Write a procedural data set in 3DIEBench's layout to ``out``.

    ``classes`` x ``objects_per_class`` objects (the first ``classes`` of
    :data:`TOY_CLASSES`), each rendered under ``views`` independent random
    latents.  The train/val split is by object: per class, a deterministic
    random ``round(val_fraction * objects_per_class)`` objects are held
    out for val.  Byte-identical output for a given seed, whatever
    ``workers`` is.  The split files are written last: a folder without
    them is an interrupted run.

    Args:
        out: new or empty folder (never overwritten).
        classes: 1..len(TOY_CLASSES).
        objects_per_class: >= 1 (3DIEBench: ~950 on average).
        views: latents per object, >= 1 (3DIEBench: 50).
        size: image side in px, 8..1024 (3DIEBench: 256).
        seed: >= 0.
        val_fraction: in [0, 1); must leave >= 1 train object per class
            and, when > 0, give >= 1 val object per class.
        workers: processes (``None``: the CPUs this process may use; 1:
            in-process, no pool).  Workers are forked where possible (they
            inherit the imported modules) and run single-threaded.
        progress: print progress lines to stdout.

    Returns:
        dict with ``classes``, ``train_objects``, ``val_objects``,
        ``train_images``, ``val_images``, ``images`` and ``seconds``.
    """
    t0 = time.time()
    classes = _check_int('classes', classes, 1, len(TOY_CLASSES))
    objects_per_class = _check_int('objects_per_class', objects_per_class, 1)
    views = _check_int('views', views, 1)
    size = _check_int('size', size, 8, 1024)
    seed = _check_int('seed', seed, 0)
    if workers is not None:
        workers = _check_int('workers', workers, 1)
    if not isinstance(val_fraction, (int, float, np.floating)) \
            or isinstance(val_fraction, bool) \
            or not 0.0 <= val_fraction < 1.0:
        raise ValueError(f'val_fraction={val_fraction!r}: must be a float '
                         'in [0, 1)')
    n_val = int(math.floor(val_fraction * objects_per_class + 0.5))
    if val_fraction > 0 and n_val == 0:
        raise ValueError(
            f'val_fraction={val_fraction} with objects_per_class='
            f'{objects_per_class} holds out 0 objects per class; raise '
            'either or pass val_fraction=0')
    if n_val >= objects_per_class:
        raise ValueError(
            f'val_fraction={val_fraction} with objects_per_class='
            f'{objects_per_class} leaves no train object per class')
    out = os.fspath(out)
    if osp.exists(out) and not osp.isdir(out):
        raise FileExistsError(f'{out} exists and is not a directory')
    if osp.isdir(out) and os.listdir(out):
        raise FileExistsError(f'{out} exists and is not empty; refusing to '
                              'write into it')
    os.makedirs(out, exist_ok=True)

    jobs = [(out, c, k, seed, views, size) for c in range(classes)
            for k in range(objects_per_class)]
    ids = {_object_id(seed, c, k) for _, c, k, *_ in jobs}
    if len(ids) != len(jobs):
        raise RuntimeError('object id collision; use another seed')
    if workers is None:
        workers = (len(os.sched_getaffinity(0))
                   if hasattr(os, 'sched_getaffinity') else os.cpu_count())
    nproc = min(workers or 1, len(jobs))
    step = max(1, len(jobs) // 10)

    def report(done: int) -> None:
        if progress and (done % step == 0 or done == len(jobs)):
            print(f'[toy_3diebench] {done}/{len(jobs)} objects, '
                  f'{done * views} images, {time.time() - t0:.1f} s',
                  flush=True)

    if nproc > 1:
        methods = mp.get_all_start_methods()
        ctx = mp.get_context('fork' if 'fork' in methods else 'spawn')
        with ctx.Pool(nproc, initializer=_worker_init) as pool:
            for done, _ in enumerate(pool.imap_unordered(
                    _write_object, jobs, chunksize=2), 1):
                report(done)
    else:
        for done, job in enumerate(jobs, 1):
            _write_object(job)
            report(done)

    split: Dict[str, List[Tuple[str, int]]] = {'train': [], 'val': []}
    for c in range(classes):
        perm = np.random.default_rng([seed, c, 2]).permutation(
            objects_per_class)
        held = set(perm[:n_val].tolist())
        for k in range(objects_per_class):
            path = f'/{toy_synset(c)}/{_object_id(seed, c, k)}/'
            split['val' if k in held else 'train'].append((path, c))
    for name, rows in split.items():
        np.save(osp.join(out, f'{name}_images.npy'),
                np.array([p for p, _ in rows], dtype=np.str_))
        np.save(osp.join(out, f'{name}_labels.npy'),
                np.array([c for _, c in rows], dtype=np.int64))
    return {'classes': classes,
            'train_objects': len(split['train']),
            'val_objects': len(split['val']),
            'train_images': len(split['train']) * views,
            'val_images': len(split['val']) * views,
            'images': len(jobs) * views,
            'seconds': round(time.time() - t0, 2)}
