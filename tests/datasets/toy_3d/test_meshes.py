"""Toy 3DIEBench meshes: closed, outward, normalised, validated."""
import numpy as np
import pytest
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from mmequi.datasets.toy_3d import TOY_CLASSES, Mesh, make_mesh

from ._shapes import CUBE_F, CUBE_V


@pytest.mark.parametrize('name', TOY_CLASSES)
def test_meshes_closed_outward_and_normalised(name):
    m = make_mesh(name, np.random.default_rng(3))
    v, f, c = m.vertices, m.faces, m.face_colors
    assert v.dtype == np.float64 and v.ndim == 2 and v.shape[1] == 3
    assert f.dtype == np.int64 and f.shape[1] == 3
    assert c.shape == f.shape and c.min() >= 0 and c.max() <= 1
    assert len(np.unique(c, axis=0)) >= 2            # parts are two-tone+
    radius = np.sqrt((v ** 2).sum(1))
    assert abs(radius.max() - 1) < 1e-9                # fills the sphere
    np.testing.assert_allclose((v.min(0) + v.max(0)) / 2, 0, atol=1e-12)
    # closed, consistently wound: every directed edge once, its reverse too
    e = np.concatenate([f[:, [0, 1]], f[:, [1, 2]], f[:, [2, 0]]])
    fwd = {tuple(x) for x in e.tolist()}
    assert len(fwd) == len(e)
    assert all((b, a) in fwd for a, b in fwd)
    tri = v[f]
    cross = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    assert (np.linalg.norm(cross, axis=1) > 1e-12).all()
    # outward: every part (connected component) has positive volume
    g = coo_matrix((np.ones(len(e)), (e[:, 0], e[:, 1])),
                   shape=(len(v), len(v)))
    ncomp, comp = connected_components(g, directed=False)
    vol = np.einsum('ij,ij->i', tri[:, 0], np.cross(tri[:, 1], tri[:, 2]))
    part_vol = np.bincount(comp[f[:, 0]], vol / 6, minlength=ncomp)
    assert (part_vol > 1e-6).all(), part_vol
    # proportions are random per object
    m2 = make_mesh(name, np.random.default_rng(4))
    assert m2.vertices.shape != v.shape or not np.allclose(m2.vertices, v)


def test_make_mesh_unknown_class():
    with pytest.raises(ValueError, match="unknown class 'sphere'"):
        make_mesh('sphere', np.random.default_rng(0))


def test_mesh_validates_shapes():
    with pytest.raises(ValueError, match=r'faces \(F, 3\)'):
        Mesh(CUBE_V, CUBE_F[:, :2], np.zeros((12, 3)))
    with pytest.raises(ValueError, match='index vertices 0..7'):
        Mesh(CUBE_V, CUBE_F + 1, np.zeros((12, 3)))
