"""A numpy z-buffer rasteriser that renders a mesh under a 3DIEBench latent.

Triangle meshes are drawn with back-face culling and a z-buffer,
vectorised as (triangle, row) spans expanded to covered pixels (no Python
loop over pixels or triangles).  The object layer is rendered at
``supersample`` x the output size and reduced with ``cv2.INTER_AREA``
(colour and coverage), then composited over the floor, which is smooth and
is lit (spot pool, shadow) at the output size.  Only numpy and OpenCV are
used; no BLAS call is made, so the bytes do not depend on thread counts.
"""
import colorsys
import math
from functools import lru_cache
from typing import Optional, Tuple, Union

import cv2
import numpy as np

from .meshes import Mesh
from .scene import (_EYE, _FWD, _RIGHT, _UP, AMBIENT, FLOOR_SPOT, FLOOR_SV,
                    FLOOR_Z, FOV_TAN, SPOT, SPOT_CONE_DEG, SPOT_DISTANCE,
                    SPOT_SV, SUN, SUN_DIR, _dot, _rotate, euler_xyz_to_matrix)


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
