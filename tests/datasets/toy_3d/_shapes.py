"""Small meshes and latents shared by the toy 3DIEBench tests."""
import numpy as np

from mmequi.datasets.toy_3d import Mesh


def iou(a, b):
    return (a & b).sum() / max((a | b).sum(), 1)


CUBE_V = np.array([[x, y, z] for z in (-1, 1) for y in (-1, 1)
                   for x in (-1, 1)], np.float64) * 0.5
CUBE_F = np.array([[0, 2, 1], [1, 2, 3], [4, 5, 6], [5, 7, 6], [0, 1, 5],
                   [0, 5, 4], [2, 6, 7], [2, 7, 3], [0, 4, 6], [0, 6, 2],
                   [1, 3, 7], [1, 7, 5]])


def boxes(*boxes):
    """Mesh of axis-aligned boxes ``(centre, size, rgb)``."""
    v = [CUBE_V * size + centre for centre, size, _ in boxes]
    f = [CUBE_F + 8 * i for i in range(len(boxes))]
    c = [np.tile(rgb, (12, 1)) for _, _, rgb in boxes]
    return Mesh(np.concatenate(v), np.concatenate(f),
                np.concatenate(c).astype(np.float64))


def latent(angles=(0, 0, 0), floor_hue=0.3, theta=0.0, phi=0.0,
            spot_hue=0.0):
    return np.array([*angles, floor_hue, theta, phi, spot_hue], np.float64)
