"""A procedural, laptop-sized stand-in for 3DIEBench in its exact layout.

3DIEBench (Garrido, Najman & LeCun, "Self-supervised learning of split
invariant equivariant representations", ICML 2023; data and generator at
https://github.com/facebookresearch/SIE, ``data/README.md``) renders
ShapeNet objects under random 3D rotations, floor colours and spot lights
(17 GB).  This package generates the same on-disk layout from procedural
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

One concern per file:

    scene.py       classes, latent layout and sampling, rotation and colour
                   conventions, camera and light constants
    meshes.py      the procedural meshes (:func:`make_mesh`)
    rasteriser.py  the numpy z-buffer renderer (:func:`render`)
    writer.py      the on-disk layout and the multiprocessing writer
                   (:func:`make_toy_3diebench`)

Only numpy and OpenCV are imported (``tools/dataset_converters/
make_toy_3diebench.py`` loads this package without importing ``mmequi``).
"""

from .meshes import Mesh, make_mesh
from .rasteriser import render
from .scene import (AMBIENT, CAMERA_DISTANCE, CAMERA_POLAR, FLOOR_SPOT,
                    FLOOR_SV, FLOOR_Z, FOV_TAN, LATENT_NAMES, LATENT_RANGES,
                    SPOT, SPOT_CONE_DEG, SPOT_DISTANCE, SPOT_SV, SUN, SUN_DIR,
                    TOY_CLASSES, euler_xyz_to_matrix, hsv_to_rgb, project,
                    sample_latents)
from .writer import JPEG_QUALITY, SYNSET_BASE, make_toy_3diebench, toy_synset

__all__ = [
    'TOY_CLASSES', 'LATENT_NAMES', 'LATENT_RANGES', 'SYNSET_BASE',
    'CAMERA_DISTANCE', 'CAMERA_POLAR', 'FOV_TAN', 'FLOOR_Z', 'FLOOR_SV',
    'SPOT_DISTANCE', 'SPOT_SV', 'SPOT_CONE_DEG', 'AMBIENT', 'SUN', 'SPOT',
    'FLOOR_SPOT', 'SUN_DIR', 'JPEG_QUALITY', 'euler_xyz_to_matrix',
    'hsv_to_rgb', 'Mesh', 'make_mesh', 'project', 'render', 'toy_synset',
    'sample_latents', 'make_toy_3diebench'
]
