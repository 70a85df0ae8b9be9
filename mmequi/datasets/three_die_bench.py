"""3DIEBench: renders of 3D objects with known rotation and lighting.

Reference: Q. Garrido, L. Najman, Y. LeCun, *Self-supervised learning of
split invariant equivariant representations* (SIE), ICML 2023. 52,472
ShapeNet objects of 55 classes (41,920 train / 10,552 val), 50 renders of
each under a random object rotation and random lighting.

On-disk layout (as distributed)::

    ROOT/train_images.npy    # (N,) str, object paths '/<synset>/<object>/'
    ROOT/train_labels.npy    # (N,) int, class labels 0..54, aligned
    ROOT/val_images.npy
    ROOT/val_labels.npy
    ROOT/<synset>/<object>/image_{i}.jpg    # 256 x 256 render, i = 0..49
    ROOT/<synset>/<object>/latent_{i}.npy   # 7 floats, see below

``latent_{i}.npy`` holds ``[rot_x, rot_y, rot_z, floor_hue, spot_theta,
spot_phi, spot_hue]``; the rotation is given by Tait-Bryan angles in
[-pi/2, pi/2], *extrinsic* ``'xyz'`` (``scipy``'s
``Rotation.from_euler('xyz', latent[:3])``: rotate about the fixed x axis,
then the fixed y axis, then the fixed z axis).

The equivariance targets of a pair of views (latents ``l1``, ``l2``) are the
relative rotation ``R1^-1 R2`` as a unit quaternion
(:func:`relative_rotation_quaternion`) and the colour change
``l2[[3, 6]] - l1[[3, 6]]`` (:func:`color_difference`). The functions here
are pure numpy (no scipy) and batched over leading dimensions.
"""
import io
import math
import re
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
from mmengine.fileio import exists, get, isdir, join_path
from mmpretrain.datasets import BaseDataset
from mmpretrain.registry import DATASETS

__all__ = [
    'ThreeDIEBench', 'euler_to_quaternion', 'quaternion_multiply',
    'quaternion_conjugate', 'canonicalize_quaternion',
    'relative_rotation_quaternion', 'color_difference', 'load_latent',
    'LATENT_NAMES', 'ROTATION_LIMIT'
]

#: Names of the 7 values of a ``latent_{i}.npy`` file, in order.
LATENT_NAMES: Tuple[str, ...] = ('rot_x', 'rot_y', 'rot_z', 'floor_hue',
                                 'spot_theta', 'spot_phi', 'spot_hue')

#: Largest valid |Tait-Bryan angle| in a latent file (pi/2 + tolerance).
ROTATION_LIMIT: float = math.pi / 2 + 1e-6

#: Latent indices of the floor hue and the spot-light hue.
COLOR_INDICES: Tuple[int, int] = (3, 6)

# Independent streams of ``np.random.default_rng([seed, stream])``.
_PAIR_STREAM = 0
_SUBSET_STREAM = 1


# ---------------------------------------------------------------------------
# Targets: pure numpy functions, batched over leading dimensions.
# Quaternions are stored (x, y, z, w), scalar last (scipy's order).
# ---------------------------------------------------------------------------
def quaternion_multiply(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Hamilton product ``p * q`` of (..., 4) quaternions (x, y, z, w).

    With ``p = (u, a)`` and ``q = (v, b)`` (vector part, scalar part)::

        p * q = (a v + b u + u x v,  a b - u . v)

    and ``R(p * q) = R(p) R(q)`` for the rotation matrices of unit
    quaternions. Leading dimensions broadcast; the result is float64.
    """
    p = np.asarray(p, dtype=np.float64)
    q = np.asarray(q, dtype=np.float64)
    x1, y1, z1, w1 = p[..., 0], p[..., 1], p[..., 2], p[..., 3]
    x2, y2, z2, w2 = q[..., 0], q[..., 1], q[..., 2], q[..., 3]
    # the formula above written out per component (np.cross is ~10x slower
    # on the single pairs the data pipeline multiplies)
    return np.stack([w1 * x2 + x1 * w2 + y1 * z2 - z1 * y2,
                     w1 * y2 - x1 * z2 + y1 * w2 + z1 * x2,
                     w1 * z2 + x1 * y2 - y1 * x2 + z1 * w2,
                     w1 * w2 - x1 * x2 - y1 * y2 - z1 * z2], axis=-1)


def quaternion_conjugate(q: np.ndarray) -> np.ndarray:
    """``(-x, -y, -z, w)``: the inverse rotation of a unit quaternion."""
    q = np.array(q, dtype=np.float64)
    q[..., :3] *= -1.0
    return q


def canonicalize_quaternion(q: np.ndarray) -> np.ndarray:
    """Pick one of ``q`` and ``-q`` (the same rotation) per (..., 4) row.

    Convention (a half-space one): ``w >= 0``; if ``w == 0`` exactly, the
    first non-zero of (x, y, z) is made positive. The map is discontinuous
    at ``w = 0`` (rotations by 180 degrees), where floating-point rounding of
    ``w`` decides the sign. Returns float64.
    """
    q = np.array(q, dtype=np.float64)
    xyz, w = q[..., :3], q[..., 3]
    nonzero = xyz != 0
    first = np.argmax(nonzero, axis=-1)  # 0 if all are zero
    lead = np.take_along_axis(xyz, first[..., None], axis=-1)[..., 0]
    flip = (w < 0) | ((w == 0) & (lead < 0))
    return np.where(flip[..., None], -q, q)


def euler_to_quaternion(angles: np.ndarray) -> np.ndarray:
    """Unit quaternions (..., 4) (x, y, z, w) of extrinsic ``'xyz'`` angles.

    ``angles[..., :3] = (a, b, c)`` (radians; further entries, e.g. the rest
    of a 3DIEBench latent, are ignored) rotate about the fixed x, then y,
    then z axis: ``R = Rz(c) Ry(b) Rx(a)``, hence ``q = qz(c) * qy(b) *
    qx(a)`` with ``qx(a) = (sin(a/2), 0, 0, cos(a/2))`` etc. This equals
    ``scipy.spatial.transform.Rotation.from_euler('xyz', angles).as_quat()``
    up to the sign of ``q`` (no canonicalisation here). Returns float64.
    """
    angles = np.asarray(angles, dtype=np.float64)
    if angles.ndim < 1 or angles.shape[-1] < 3:
        raise ValueError('euler_to_quaternion expects (..., >=3) angles '
                         f'(rot_x, rot_y, rot_z), got shape {angles.shape}')
    half = 0.5 * angles[..., :3]
    s, c = np.sin(half), np.cos(half)
    zeros = np.zeros_like(s[..., 0])
    qx = np.stack([s[..., 0], zeros, zeros, c[..., 0]], axis=-1)
    qy = np.stack([zeros, s[..., 1], zeros, c[..., 1]], axis=-1)
    qz = np.stack([zeros, zeros, s[..., 2], c[..., 2]], axis=-1)
    return quaternion_multiply(qz, quaternion_multiply(qy, qx))


def relative_rotation_quaternion(latent1: np.ndarray,
                                 latent2: np.ndarray) -> np.ndarray:
    """Rotation target of SIE [ICML 2023]: ``R1^-1 R2`` as a quaternion.

    ``R_k = Rotation.from_euler('xyz', latent_k[..., :3])`` (extrinsic, see
    :func:`euler_to_quaternion`), so with ``q_k`` the quaternion of ``R_k``::

        q = conj(q1) * q2,   R(q) = R1^T R2 = R1^-1 R2

    (``*`` the Hamilton product), normalised to unit length and returned as
    (..., 4) float64 ``(x, y, z, w)``; ``latent1`` and ``latent2`` are
    (..., >=3) arrays (full 7-value latents work) whose leading dimensions
    broadcast.

    **Sign convention.** ``q`` and ``-q`` are the same rotation, but an R^2
    computed over the quaternion entries depends on which of the two is
    used. We fix ``w >= 0`` (a half-space convention; if ``w == 0`` exactly
    the first non-zero of (x, y, z) is made positive, see
    :func:`canonicalize_quaternion`). SIE's code leaves the sign to its
    Euler-to-quaternion conversion routine, so the published R^2 numbers may
    use a different convention: compare conventions before comparing
    numbers.
    """
    q1 = euler_to_quaternion(latent1)
    q2 = euler_to_quaternion(latent2)
    q = quaternion_multiply(quaternion_conjugate(q1), q2)
    q /= np.linalg.norm(q, axis=-1, keepdims=True)
    return canonicalize_quaternion(q)


def color_difference(latent1: np.ndarray,
                     latent2: np.ndarray) -> np.ndarray:
    """Colour target of SIE [ICML 2023]: (..., 2) float64

    ``latent2[..., [3, 6]] - latent1[..., [3, 6]]`` = (floor hue change,
    spot-light hue change), a plain difference (no wrap-around of the hue
    circle). ``latent1``/``latent2`` are (..., 7) latents whose leading
    dimensions broadcast.
    """
    l1 = np.asarray(latent1, dtype=np.float64)
    l2 = np.asarray(latent2, dtype=np.float64)
    for name, arr in (('latent1', l1), ('latent2', l2)):
        if arr.ndim < 1 or arr.shape[-1] != len(LATENT_NAMES):
            raise ValueError(f'color_difference expects (..., 7) latents, '
                             f'got {name} of shape {arr.shape}')
    idx = list(COLOR_INDICES)
    return l2[..., idx] - l1[..., idx]


# ---------------------------------------------------------------------------
# File reading and validation.
# ---------------------------------------------------------------------------
def _load_npy(path: str, backend_args: Optional[dict]) -> np.ndarray:
    """``np.load`` of a (possibly remote) .npy file, no pickles; unreadable
    -> ValueError naming the file."""
    try:
        return np.load(io.BytesIO(get(path, backend_args=backend_args)),
                       allow_pickle=False)
    except FileNotFoundError:
        raise
    except Exception as e:  # corrupt file, object array, ...
        raise ValueError(f'cannot read {path} as a .npy array (pickled '
                         f'object arrays are not accepted): '
                         f'{type(e).__name__}: {e}') from e


def load_latent(path: str, backend_args: Optional[dict] = None
                ) -> np.ndarray:
    """Read and validate one 3DIEBench ``latent_{i}.npy``: (7,) float64.

    Expected: 7 finite real numbers :data:`LATENT_NAMES` (any array shape
    with 7 elements, e.g. (7,) or (1, 7)) whose rotation angles lie in
    ``[-pi/2 - 1e-6, pi/2 + 1e-6]``. Raises FileNotFoundError (missing) or
    ValueError (anything else), naming ``path`` and what was expected.
    """
    if not exists(path, backend_args=backend_args):
        raise FileNotFoundError(
            f'3DIEBench latent file {path} does not exist (expected 7 '
            f'floats {list(LATENT_NAMES)})')
    arr = _load_npy(path, backend_args)
    if (arr.dtype.kind not in 'iuf') or arr.size != len(LATENT_NAMES):
        raise ValueError(
            f'3DIEBench latent file {path}: expected 7 real numbers '
            f'{list(LATENT_NAMES)}, got an array of shape {arr.shape} and '
            f'dtype {arr.dtype}')
    latent = arr.astype(np.float64).reshape(-1)
    if not np.isfinite(latent).all():
        raise ValueError(f'3DIEBench latent file {path}: expected finite '
                         f'values, got {latent.tolist()}')
    rot = latent[:3]
    if (np.abs(rot) > ROTATION_LIMIT).any():
        raise ValueError(
            f'3DIEBench latent file {path}: rotation angles (rot_x, rot_y, '
            f'rot_z) must lie in [-pi/2, pi/2] (tolerance 1e-6), got '
            f'{rot.tolist()}')
    return latent


# Object path of a split file: '/<synset>/<object>/' (slashes at the ends
# optional); components without '/', '\' or whitespace, not '.' or '..'.
_OBJECT_RE = re.compile(r'^/?([^/\\\s]+)/([^/\\\s]+)/?$')


def _normalize_object_path(value: str) -> Optional[Tuple[str, str]]:
    m = _OBJECT_RE.match(value)
    if m is None or any(c in ('.', '..') for c in m.groups()):
        return None
    return m.group(1), m.group(2)


@DATASETS.register_module()
class ThreeDIEBench(BaseDataset):
    """3DIEBench (SIE, Garrido et al., ICML 2023) in mmpretrain's format.

    See the module docstring for the on-disk layout. Three ``mode`` s:

    - ``'pretrain'`` -- one entry per object (x ``pairs_per_object``); each
      access draws two *distinct* views ``i != j`` uniformly (ordered) with
      numpy's **global** generator, which ``EpochSeedHook`` /
      ``epoch_worker_init_fn`` reseed per epoch and worker, so every epoch
      sees new pairs (SIE's training set).
    - ``'pair'`` -- probe pairs with **fixed** views: the distinct view
      indices of all entries are drawn once, when the data list is loaded,
      from ``np.random.default_rng([seed, 0])`` in split-file order, so they
      are identical across epochs, processes and ranks (deterministic
      evaluation; a frozen-feature cache can key by ``img_path``).
    - ``'single'`` -- one entry per (object, view) for classification: all
      ``num_views`` views, or a fixed subset of ``views_per_object`` distinct
      views per object (sorted) drawn from ``np.random.default_rng([seed,
      1])``.

    Entry ``k`` of the pair modes belongs to object ``k // pairs_per_object``
    (entries of one object are contiguous); in single mode to object
    ``k // views_per_object``.

    **Results of the pair modes** (before the pipeline):

    - ``img_path`` -- list ``[path of view i, path of view j]``
    - ``view_ids`` -- tuple ``(i, j)``, ``i != j``
    - ``latent`` -- float32 (2, 7): the two latents
    - ``rot_quat`` -- float32 (4,): :func:`relative_rotation_quaternion`
      (``R_i^-1 R_j``, ``(x, y, z, w)``, ``w >= 0``)
    - ``color_diff`` -- float32 (2,): :func:`color_difference`
    - ``gt_label`` (int), ``object_path`` (str, ``'<synset>/<object>'``),
      ``object_index`` (int, row of the split file), ``sample_idx`` (int)

    **Results of single mode**: ``img_path`` (str), ``view_id`` (int),
    ``latent`` float32 (7,), ``gt_label``, ``object_path``,
    ``object_index``, ``sample_idx``.

    Targets are computed in float64 from the files and then cast. Pair
    modes are loaded with :class:`~mmequi.datasets.transforms.LoadViews`
    (``img`` becomes a list of two images); single mode with
    ``LoadImageFromFile``.

    **Validation.** When the data list is loaded: the split files must
    exist (FileNotFoundError) and hold aligned 1-D arrays of object-path
    strings and integer labels in ``0..C-1``, with well-formed, unique object
    paths (ValueError naming the file and the offending entry); every
    object directory must exist (FileNotFoundError naming the first missing
    one). Latent files are read and validated at access time (reading 50
    files per object at init would take too long): missing, not 7 finite
    numbers, or rotation angles outside ``[-pi/2, pi/2]`` (tolerance 1e-6)
    -> an error naming the file (:func:`load_latent`); a missing image file
    -> FileNotFoundError naming it. Nothing is skipped.

    Args:
        data_root: the dataset root ``ROOT``.
        split: reads ``ROOT/{split}_images.npy`` and
            ``ROOT/{split}_labels.npy``; ``'train'`` or ``'val'`` for the
            official splits (any name of letters, digits, ``_`` and ``-``
            is accepted, for custom split files). Defaults to ``'train'``.
        mode: ``'pretrain'``, ``'pair'`` or ``'single'``.
            Defaults to ``'pretrain'``.
        num_views: views per object (``image_0 .. image_{num_views-1}``);
            >= 2 in the pair modes. Defaults to 50.
        pairs_per_object: entries per object in the pair modes.
            Defaults to 1.
        views_per_object: single mode only: None for all ``num_views`` views,
            or the size of a fixed random subset per object.
            Defaults to None.
        seed: seed of the fixed choices (pairs, view subsets).
            Defaults to 0.
        classes: class names (a sequence, or a file with one per line).
            Defaults to None: the synsets in label order, which requires a
            one-to-one label <-> synset correspondence within the split.
        pipeline: processing pipeline (configs or callables).
        test_mode: as mmengine's ``BaseDataset``: raise instead of
            refetching when the pipeline returns None. Defaults to False.
        lazy_init: defer loading the data list. Defaults to False.
        max_refetch: as mmengine's ``BaseDataset``. Defaults to 1000.
        indices: use only these entries (or the first ``indices``), as
            mmengine's ``BaseDataset``. Defaults to None.
        serialize_data: as mmengine's ``BaseDataset``. Defaults to True.
        backend_args: mmengine file-backend arguments for reading the split
            and latent files and checking paths. Defaults to None (local).
        metainfo: extra meta information. Defaults to None.

    Example::

        dataset = dict(type='ThreeDIEBench', data_root='data/3DIEBench',
                       split='val', mode='pair', pipeline=[
                           dict(type='LoadViews'),
                           dict(type='ApplyToViews', transforms=[
                               dict(type='Resize', scale=(224, 224))]),
                           dict(type='PackInputs',
                                algorithm_keys=['rot_quat', 'color_diff'])])
    """

    MODES: Tuple[str, ...] = ('pretrain', 'pair', 'single')

    def __init__(self,
                 data_root: str,
                 split: str = 'train',
                 mode: str = 'pretrain',
                 num_views: int = 50,
                 pairs_per_object: int = 1,
                 views_per_object: Optional[int] = None,
                 seed: int = 0,
                 classes: Union[str, Sequence[str], None] = None,
                 pipeline: Sequence = (),
                 test_mode: bool = False,
                 lazy_init: bool = False,
                 max_refetch: int = 1000,
                 indices: Optional[Union[int, Sequence[int]]] = None,
                 serialize_data: bool = True,
                 backend_args: Optional[dict] = None,
                 metainfo: Optional[dict] = None) -> None:
        if not isinstance(data_root, str) or not data_root:
            raise ValueError(f'data_root must be a non-empty path, got '
                             f'{data_root!r}')
        if not isinstance(split, str) or not re.fullmatch(r'[\w\-]+', split):
            raise ValueError(f"split must be a name like 'train' or 'val' "
                             f'(reads {{split}}_images.npy), got {split!r}')
        if mode not in self.MODES:
            raise ValueError(f'mode must be one of {self.MODES}, got '
                             f'{mode!r}')
        min_views = 1 if mode == 'single' else 2
        self.num_views = self._check_int('num_views', num_views, min_views)
        self.pairs_per_object = self._check_int('pairs_per_object',
                                                pairs_per_object, 1)
        if views_per_object is not None:
            if mode != 'single':
                raise ValueError('views_per_object is for mode="single" '
                                 f'only, got mode={mode!r}')
            views_per_object = self._check_int('views_per_object',
                                               views_per_object, 1)
            if views_per_object > self.num_views:
                raise ValueError(
                    f'views_per_object={views_per_object} exceeds '
                    f'num_views={self.num_views}')
        if (not isinstance(seed, (int, np.integer))
                or isinstance(seed, bool) or seed < 0):
            raise ValueError(f'seed must be an int >= 0, got {seed!r}')
        self.split = split
        self.mode = mode
        self.views_per_object = views_per_object
        self.seed = int(seed)
        self.backend_args = None if backend_args is None else dict(
            backend_args)
        self.images_file = join_path(data_root, f'{split}_images.npy',
                                     backend_args=self.backend_args)
        self.labels_file = join_path(data_root, f'{split}_labels.npy',
                                     backend_args=self.backend_args)
        # Object table (filled by load_data_list): 'synset/object' strings
        # and labels, one row per line of the split files.
        self.object_paths = np.empty(0, dtype=str)
        self.object_labels = np.empty(0, dtype=np.int64)
        super().__init__(
            ann_file='',
            metainfo=metainfo,
            data_root=data_root,
            data_prefix='',
            indices=indices,
            serialize_data=serialize_data,
            pipeline=pipeline,
            test_mode=test_mode,
            lazy_init=lazy_init,
            max_refetch=max_refetch,
            classes=classes)

    @staticmethod
    def _check_int(name: str, value, minimum: int) -> int:
        if (not isinstance(value, (int, np.integer))
                or isinstance(value, bool) or value < minimum):
            raise ValueError(f'{name} must be an int >= {minimum}, got '
                             f'{value!r}')
        return int(value)

    @property
    def entries_per_object(self) -> int:
        """Entries of one object: pairs, or views in single mode."""
        if self.mode == 'single':
            return self.views_per_object or self.num_views
        return self.pairs_per_object

    @property
    def num_objects(self) -> int:
        """Number of objects of the split (0 before the data list is
        loaded)."""
        return len(self.object_paths)

    # -- split files ---------------------------------------------------------
    def _read_split(self) -> Tuple[np.ndarray, np.ndarray]:
        """Validated (object paths 'synset/object', labels) of the split."""
        arrays = []
        for path in (self.images_file, self.labels_file):
            if not exists(path, backend_args=self.backend_args):
                raise FileNotFoundError(
                    f'3DIEBench split file {path} not found (expected '
                    f'{self.split}_images.npy and {self.split}_labels.npy '
                    f'in data_root={self.data_root!r})')
            arrays.append(_load_npy(path, self.backend_args))
        images, labels = arrays
        if images.ndim != 1 or images.dtype.kind not in 'US':
            first = images.reshape(-1)[0].tolist() if images.size else None
            raise ValueError(
                f'{self.images_file}: expected a 1-D array of object path '
                f'strings like "/02691156/1a04e3eab45ca15dd86060f189eb133/",'
                f' got shape {images.shape} and dtype {images.dtype} '
                f'(entry 0: {first!r})')
        if images.dtype.kind == 'S':
            images = np.char.decode(images, 'utf-8')
        if labels.ndim != 1 or labels.dtype.kind not in 'iuf':
            raise ValueError(
                f'{self.labels_file}: expected a 1-D array of integer class '
                f'labels, got shape {labels.shape} and dtype {labels.dtype}')
        if len(images) != len(labels):
            raise ValueError(
                f'{self.images_file} lists {len(images)} objects but '
                f'{self.labels_file} has {len(labels)} labels; they must '
                f'be aligned')
        if len(images) == 0:
            raise ValueError(f'{self.images_file} lists no objects')
        if labels.dtype.kind == 'f':
            bad = np.flatnonzero(~np.isfinite(labels)
                                 | (labels != np.round(labels)))
            if bad.size:
                raise ValueError(
                    f'{self.labels_file}: entry {bad[0]} is '
                    f'{labels[bad[0]].tolist()!r}, expected an integer class '
                    f'label')
        labels = labels.astype(np.int64)

        objects: List[str] = []
        seen: Dict[str, int] = {}
        for k, value in enumerate(images.tolist()):
            parts = _normalize_object_path(value)
            if parts is None:
                raise ValueError(
                    f'{self.images_file}: entry {k} is {value!r}, expected '
                    f'an object path "/<synset>/<object>/"')
            obj = '/'.join(parts)
            if obj in seen:
                raise ValueError(
                    f'{self.images_file}: entry {k} ({value!r}) duplicates '
                    f'entry {seen[obj]}; every object must be listed once')
            seen[obj] = k
            objects.append(obj)
        return np.array(objects), labels

    def _class_names(self, objects: np.ndarray, labels: np.ndarray
                     ) -> Tuple[str, ...]:
        """Check the labels' range; the class names (given or synsets)."""
        synsets = [o.split('/', 1)[0] for o in objects.tolist()]
        names = self._metainfo.get('classes')  # given by the user
        if names is not None:
            names = tuple(names)
        num = len(names) if names is not None else len(set(synsets))
        bad = np.flatnonzero((labels < 0) | (labels >= num))
        if bad.size:
            k = int(bad[0])
            what = ('len(classes)' if names is not None else
                    'the number of synsets in the split')
            raise ValueError(
                f'{self.labels_file}: entry {k} (object {objects[k]}) has '
                f'label {labels[k]}, expected a label in 0..{num - 1} '
                f'({what} = {num}); pass `classes` if the split lacks '
                f'classes')
        if names is not None:
            return names
        by_label: Dict[int, str] = {}
        by_synset: Dict[str, int] = {}
        for k, (syn, lab) in enumerate(zip(synsets, labels.tolist())):
            clash = None
            if by_label.setdefault(lab, syn) != syn:
                clash = f'label {lab} is synset {by_label[lab]}'
            elif by_synset.setdefault(syn, lab) != lab:
                clash = f'synset {syn} is label {by_synset[syn]}'
            if clash is not None:
                raise ValueError(
                    f'{self.labels_file}: entry {k} (object {objects[k]}) '
                    f'has label {lab}, but {clash} in an earlier entry; '
                    f'class names are derived from a one-to-one label <-> '
                    f'synset map, pass `classes` otherwise')
        return tuple(by_label[c] for c in range(num))

    def _check_object_dirs(self, objects: np.ndarray) -> None:
        for k, obj in enumerate(objects.tolist()):
            folder = join_path(self.data_root, obj,
                               backend_args=self.backend_args)
            if not isdir(folder, backend_args=self.backend_args):
                raise FileNotFoundError(
                    f'3DIEBench object directory {folder} (entry {k} of '
                    f'{self.images_file}) does not exist')

    # -- data list -----------------------------------------------------------
    def load_data_list(self) -> List[dict]:
        """Read and validate the split files; one small dict per entry.

        Entries hold ``object_index`` (row of the split files) and, in
        ``'pair'`` mode, the fixed ``view_ids``; in ``'single'`` mode the
        ``view_id``. Paths, labels and latents are added per access.
        """
        objects, labels = self._read_split()
        classes = self._class_names(objects, labels)
        self._check_object_dirs(objects)
        self.object_paths, self.object_labels = objects, labels
        self._metainfo['classes'] = classes
        n, v = len(objects), self.num_views
        if self.mode == 'pretrain':
            return [dict(object_index=o) for o in range(n)
                    for _ in range(self.pairs_per_object)]
        if self.mode == 'pair':
            rng = np.random.default_rng([self.seed, _PAIR_STREAM])
            total = n * self.pairs_per_object
            first = rng.integers(0, v, size=total)
            second = rng.integers(0, v - 1, size=total)
            second += second >= first  # uniform over j != i
            owner = np.repeat(np.arange(n), self.pairs_per_object)
            return [
                dict(object_index=int(o), view_ids=(int(i), int(j)))
                for o, i, j in zip(owner, first, second)
            ]
        if self.views_per_object is None:
            return [dict(object_index=o, view_id=i) for o in range(n)
                    for i in range(v)]
        rng = np.random.default_rng([self.seed, _SUBSET_STREAM])
        keys = rng.random((n, v))  # a random permutation per object
        subset = np.sort(np.argsort(keys, axis=1)[:, :self.views_per_object],
                         axis=1)
        return [dict(object_index=o, view_id=int(i)) for o in range(n)
                for i in subset[o]]

    def get_data_info(self, idx: int) -> dict:
        """The ``idx``-th entry plus ``object_path``, ``gt_label`` and
        ``sample_idx``; cheap and deterministic (no file access, no random
        draw), so ``get_gt_labels`` / ``get_cat_ids`` / samplers may call it
        freely. :meth:`load_sample` completes it."""
        info = super().get_data_info(idx)
        o = info['object_index']
        info['object_path'] = str(self.object_paths[o])
        info['gt_label'] = int(self.object_labels[o])
        return info

    def image_path(self, object_path: str, view: int) -> str:
        """``ROOT/<synset>/<object>/image_{view}.jpg``."""
        return join_path(self.data_root, object_path, f'image_{view}.jpg',
                         backend_args=self.backend_args)

    def latent_path(self, object_path: str, view: int) -> str:
        """``ROOT/<synset>/<object>/latent_{view}.npy``."""
        return join_path(self.data_root, object_path, f'latent_{view}.npy',
                         backend_args=self.backend_args)

    def _check_image(self, path: str) -> str:
        if not exists(path, backend_args=self.backend_args):
            raise FileNotFoundError(
                f'3DIEBench image file {path} does not exist')
        return path

    def load_sample(self, info: dict) -> dict:
        """Complete an entry of :meth:`get_data_info` into the results the
        pipeline receives (see the class docstring for the keys).

        In ``'pretrain'`` mode this draws the two distinct views with
        ``np.random`` (a new pair per call); the latents are read and
        validated here.
        """
        obj = info['object_path']
        if self.mode == 'single':
            view = info['view_id']
            info['img_path'] = self._check_image(self.image_path(obj, view))
            info['latent'] = load_latent(
                self.latent_path(obj, view),
                self.backend_args).astype(np.float32)
            return info
        if self.mode == 'pretrain':
            i = int(np.random.randint(self.num_views))
            j = int(np.random.randint(self.num_views - 1))
            j += j >= i
            info['view_ids'] = (i, j)
        views = info['view_ids']
        info['img_path'] = [
            self._check_image(self.image_path(obj, v)) for v in views
        ]
        latents = np.stack([
            load_latent(self.latent_path(obj, v), self.backend_args)
            for v in views
        ])
        info['latent'] = latents.astype(np.float32)
        info['rot_quat'] = relative_rotation_quaternion(
            latents[0], latents[1]).astype(np.float32)
        info['color_diff'] = color_difference(latents[0],
                                              latents[1]).astype(np.float32)
        return info

    def get_sample_info(self, idx: int) -> dict:
        """``load_sample(get_data_info(idx))``: the results before the
        pipeline."""
        return self.load_sample(self.get_data_info(idx))

    def prepare_data(self, idx: int) -> Optional[dict]:
        """Run the pipeline on :meth:`get_sample_info` (per access, so
        ``'pretrain'`` mode draws a new pair every time)."""
        return self.pipeline(self.get_sample_info(idx))

    def extra_repr(self) -> List[str]:
        """Split, mode, number of objects and views (for ``__repr__``)."""
        body = [
            f'Data root: \t{self.data_root}',
            f'Split: \t{self.split} ({self.images_file})',
            f'Mode: \t{self.mode}',
        ]
        if self._fully_initialized:
            body.append(f'Number of objects: \t{self.num_objects}')
        body.append(f'Views per object: \t{self.num_views}')
        if self.mode == 'single':
            body.append('Entries per object: \t' + (
                'all views' if self.views_per_object is None else
                f'{self.views_per_object} fixed views (seed {self.seed})'))
        else:
            kind = ('random per access' if self.mode == 'pretrain' else
                    f'fixed (seed {self.seed})')
            body.append(f'Pairs per object: \t{self.pairs_per_object} '
                        f'({kind})')
        return body
