"""Toy 3DIEBench rasteriser: silhouettes, z-buffer, shading, lights."""
import colorsys
import math

import cv2
import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from mmequi.datasets.toy_3d import (AMBIENT, CAMERA_DISTANCE, CAMERA_POLAR,
                                    FOV_TAN, SPOT, SPOT_SV, SUN, SUN_DIR,
                                    Mesh, make_mesh, project, render)

from ._shapes import CUBE_F, CUBE_V, boxes, iou, latent


def _look_at_projection(points, size):
    """An independent pinhole camera from the documented constants."""
    eye = CAMERA_DISTANCE * np.array(
        [0, math.sin(CAMERA_POLAR), math.cos(CAMERA_POLAR)])
    fwd = -eye / np.linalg.norm(eye)
    right = np.cross(fwd, [0, 0, 1])
    right /= np.linalg.norm(right)
    up = np.cross(right, fwd)
    rmat = np.stack([right, -up, fwd])               # OpenCV: x right, y down
    tvec = -rmat @ eye
    f = size / 2 / FOV_TAN
    k = np.array([[f, 0, size / 2], [0, f, size / 2], [0, 0, 1]])
    pts, _ = cv2.projectPoints(points, cv2.Rodrigues(rmat)[0], tvec, k, None)
    return pts[:, 0]


def test_silhouette_matches_independent_projection():
    # a cube of our own, rotated, against the convex hull of its projected
    # corners drawn by OpenCV
    corners = CUBE_V
    cube = Mesh(CUBE_V, CUBE_F, np.full((12, 3), 0.7))
    size = 256
    for angles in ([0.3, -0.5, 0.9], [-1.2, 0.4, -0.2], [0, 0, 0]):
        _, mask = render(cube, latent(angles), size, return_mask=True,
                         supersample=1)
        world = corners @ Rotation.from_euler('xyz', angles).as_matrix().T
        px = _look_at_projection(world, size)
        np.testing.assert_allclose(project(world, size), px, atol=1e-9)
        px = px - 0.5                        # OpenCV pixel centres at ints
        hull = cv2.convexHull(np.round(px * 16).astype(np.int32))
        ref = np.zeros((size, size), np.uint8)
        cv2.fillConvexPoly(ref, hull, 1, lineType=cv2.LINE_8, shift=4)
        assert iou(mask, ref.astype(bool)) > 0.98


def test_zbuffer_nearest_surface_wins():
    eye = np.array([0, math.sin(CAMERA_POLAR), math.cos(CAMERA_POLAR)])
    for near, far in (((0.9, 0.1, 0.1), (0.1, 0.1, 0.9)),
                      ((0.1, 0.1, 0.9), (0.9, 0.1, 0.1))):
        # two cubes on the optical axis; the first one is nearer
        mesh = boxes((0.4 * eye, (0.4,) * 3, near),
                      (-0.4 * eye, (0.4,) * 3, far))
        img = render(mesh, latent(spot_hue=0.0, theta=0.0), 32,
                     supersample=1).astype(int)
        centre = img[15:17, 15:17].reshape(-1, 3).mean(0)
        k = 0 if near[0] > near[2] else 2
        assert centre[k] > centre[2 - k] + 30


def test_lambert_shading_formula():
    # a horizontal grey plate under a red spot straight above: its top face
    # (normal +z) faces the light (cos = 1, inside the cone)
    albedo = 0.8
    mesh = boxes(((0, 0, 0), (1.2, 1.2, 0.1), (albedo,) * 3))
    size = 64
    img = render(mesh, latent(floor_hue=0.5, theta=0.0, spot_hue=0.0),
                 size, supersample=1).astype(float)
    col, row = np.floor(_look_at_projection(np.array([[0, 0, 0.05]]),
                                            size)[0]).astype(int)
    spot_red = colorsys.hsv_to_rgb(0.0, *SPOT_SV)[0]
    base = AMBIENT + SUN * max(SUN_DIR[2], 0)
    expect = 255 * albedo * np.array([base + SPOT * spot_red, base, base])
    np.testing.assert_allclose(img[row, col], np.clip(expect, 0, 255),
                               atol=2.0)


@pytest.mark.parametrize('name', ['airplane', 'chair', 'mug', 'arrow'])
def test_rotation_equals_prerotated_mesh(name):
    rng = np.random.default_rng(7)
    mesh = make_mesh(name, rng)
    for angles in rng.uniform(-np.pi / 2, np.pi / 2, (3, 3)):
        img, mask = render(mesh, latent(angles, theta=0.4, phi=2.0),
                           48, return_mask=True)
        rot = Rotation.from_euler('xyz', angles).as_matrix()
        pre = Mesh(mesh.vertices @ rot.T, mesh.faces, mesh.face_colors)
        img0, mask0 = render(pre, latent(theta=0.4, phi=2.0), 48,
                             return_mask=True)
        assert mask.sum() > 50
        assert iou(mask, mask0) > 0.99
        assert np.abs(img.astype(int) - img0).mean() < 1.0
        # the transpose (inverse rotation) would be a different picture
        inv = Mesh(mesh.vertices @ rot, mesh.faces, mesh.face_colors)
        _, mask_inv = render(inv, latent(theta=0.4, phi=2.0), 48,
                             return_mask=True)
        assert iou(mask, mask_inv) < 0.95


def test_different_rotations_give_different_silhouettes():
    mesh = make_mesh('airplane', np.random.default_rng(0))
    _, m0 = render(mesh, latent(), 64, return_mask=True)
    for angles in ([0, 0, np.pi / 2], [np.pi / 2, 0, 0], [0, 1.0, 0]):
        _, m1 = render(mesh, latent(angles), 64, return_mask=True)
        assert iou(m0, m1) < 0.8


def test_shadow_falls_away_from_the_light():
    # phi = 0 puts the spot on the +x side; the camera's right is -x and
    # its top is far -y, so the shadow moves right / left / down
    mesh = boxes(((0, 0, 0.1), (0.25, 0.25, 0.9), (0.8, 0.8, 0.8)))

    def shadow_of(phi):
        lat = latent(floor_hue=0.1, theta=np.pi / 4, phi=phi, spot_hue=0.5)
        img, mask = render(mesh, lat, 64, return_mask=True)
        flat = render(mesh, lat, 64, shadows=False)
        return (np.abs(flat.astype(int) - img).sum(2) > 30) & ~mask, mask

    for phi, (axis, sign) in {0.0: (0, 1), np.pi: (0, -1),
                              3 * np.pi / 2: (1, 1)}.items():
        shadow, mask = shadow_of(phi)
        assert shadow.sum() > 30
        obj_c = np.argwhere(mask).mean(0)[::-1]      # (x, y)
        sh_c = np.argwhere(shadow).mean(0)[::-1]
        assert sign * (sh_c[axis] - obj_c[axis]) > 3, (phi, obj_c, sh_c)
    # theta = pi/4, phi = pi/2 is the camera's own direction: the shadow
    # falls exactly behind the object, out of sight
    assert shadow_of(np.pi / 2)[0].sum() <= 3


@pytest.mark.parametrize('floor_hue', [0.0, 0.17, 0.5, 0.83])
def test_floor_colour_follows_floor_hue(floor_hue):
    mesh = make_mesh('chair', np.random.default_rng(0))
    img, mask = render(mesh, latent((0.2, -0.3, 0.5), floor_hue, 0.0, 1.0,
                                     0.6), 32, return_mask=True)
    for y, x in ((0, 0), (0, 31)):          # far floor, outside the pool
        assert not mask[y, x]
        h, s, v = colorsys.rgb_to_hsv(*(img[y, x] / 255.0))
        assert min(abs(h - floor_hue), 1 - abs(h - floor_hue)) < 0.01
        assert abs(s - 0.6) < 0.02 and abs(v - 0.6) < 0.01


def test_light_hue_changes_object_colour():
    mesh = make_mesh('l_shape', np.random.default_rng(0))
    grey = Mesh(mesh.vertices, mesh.faces, np.full(mesh.faces.shape, 0.8))
    imgs, masks = [], []
    for spot_hue in (0.0, 1 / 3, 2 / 3):         # red, green, blue light
        img, mask = render(grey, latent((0.3, 0.2, 0.4), 0.5, 0.3, 1.0,
                                         spot_hue), 48, return_mask=True)
        imgs.append(img.astype(float))
        masks.append(mask)
    obj = masks[0] & masks[1] & masks[2]
    assert obj.sum() > 100
    assert (masks[0] == masks[1]).all()          # the light moves no pixel
    means = np.array([im[obj].mean(0) for im in imgs])   # (light, channel)
    for k in range(3):   # channel k is brightest under light k
        assert means[k, k] - np.delete(means[:, k], k).max() > 20


def test_render_rejects_bad_latent():
    mesh = make_mesh('cone', np.random.default_rng(0))
    with pytest.raises(ValueError, match='latent must be 7'):
        render(mesh, np.zeros(6))
    with pytest.raises(ValueError, match='size'):
        render(mesh, np.zeros(7), size=0)
