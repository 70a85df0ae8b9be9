"""Procedural meshes of the toy 3DIEBench classes (:data:`TOY_CLASSES`).

Each class is built from boxes, surfaces of revolution and tori with parts
in different colours, then normalised into the unit sphere
(:func:`make_mesh`).
"""
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from .scene import TOY_CLASSES, _rotate, euler_xyz_to_matrix, hsv_to_rgb


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
