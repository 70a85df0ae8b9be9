"""Tiny generated classification sets in the real on-disk formats.

One writer per format read by ``configs/benchmarks/classification/_base_/
datasets/*.py`` (the transfer datasets of Wang et al., AAAI-26, Table 5):

=================  =========================================  ============
function           format (reader)                            data_root
=================  =========================================  ============
make_imagenet      ImageNet folders + meta/*.txt (ImageNet)   ``root``
make_cifar         python-pickle batches (OfflineCIFAR10/100)  ``root``
make_fgvc_aircraft FGVC-Aircraft 2013b (FGVCAircraft)          ``root``
make_oxford_pets   Oxford-IIIT Pets (OxfordIIITPet)            ``root``
make_food101       Food-101 (Food101)                          ``root``
make_flowers102    Oxford Flowers-102, .mat files (Flowers102) ``root``
make_inat2018      iNaturalist 2018 json (INaturalist2018)     ``root``
=================  =========================================  ============

Every writer returns ``root`` (pass it as ``data_root``), uses few classes
(default 3) and few images per class, and writes only what the reader
needs plus the files of the official release that are cheap to imitate.
Where a reader hard-codes the official class list (CIFAR, Aircraft, Pets,
Food-101) the fixture uses the first ``num_classes`` official names, so
labels are indices into that list. Images are small JPEGs whose colour is a
fixed function of the class plus noise, so labels are learnable.
"""
import json
import os
import os.path as osp
import pickle
from typing import Dict, List, Sequence, Tuple

import numpy as np
from PIL import Image

__all__ = [
    'make_imagenet', 'make_cifar', 'make_fgvc_aircraft', 'make_oxford_pets',
    'make_food101', 'make_flowers102', 'make_inat2018', 'FIXTURES',
    'make_classification_fixture'
]


def _check_counts(num_classes: int, max_classes: int, **per_class: int
                  ) -> None:
    if not 1 <= num_classes <= max_classes:
        raise ValueError(f'num_classes must be in [1, {max_classes}], got '
                         f'{num_classes}.')
    for name, value in per_class.items():
        if value < 1:
            raise ValueError(f'{name} must be >= 1, got {value}.')


def _class_image(label: int, size: int, rng: np.random.Generator
                 ) -> np.ndarray:
    """(size, size, 3) uint8 RGB: a class colour (fixed per label) + noise."""
    colour = np.random.default_rng([label, 7]).integers(0, 256, 3)
    img = np.broadcast_to(colour, (size, size, 3)).astype(np.int16)
    img = img + rng.integers(-25, 26, (size, size, 3), dtype=np.int16)
    return np.clip(img, 0, 255).astype(np.uint8)


def _write_jpeg(path: str, label: int, size: int,
                rng: np.random.Generator) -> None:
    os.makedirs(osp.dirname(path), exist_ok=True)
    Image.fromarray(_class_image(label, size, rng)).save(path, quality=95)


def _write_lines(path: str, lines: Sequence[str]) -> None:
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write(''.join(f'{line}\n' for line in lines))


def make_imagenet(root: str, num_classes: int = 3, train_per_class: int = 2,
                  val_per_class: int = 1, size: int = 32, seed: int = 0,
                  with_meta: bool = True) -> str:
    """ImageNet-1k layout read by mmpretrain's ``ImageNet``::

        root/train/<wnid>/<wnid>_<i>.JPEG
        root/val/ILSVRC2012_val_<8 digits>.JPEG       (with_meta: flat)
        root/val/<wnid>/ILSVRC2012_val_<8 digits>.JPEG (without meta)
        root/meta/train.txt  "<wnid>/<wnid>_<i>.JPEG <label>"  (with_meta)
        root/meta/val.txt    "ILSVRC2012_val_<8 digits>.JPEG <label>"

    ``wnid``s are synthetic (``n%08d``), sorted in label order. Without
    ``meta/*.txt`` mmpretrain scans the class folders and requires all
    1000 of them, so ``with_meta=False`` needs ``num_classes=1000``.

    Args:
        root: output folder (created).
        num_classes: classes (labels 0..num_classes-1).
        train_per_class / val_per_class: images per class and split.
        size: image side in pixels.
        seed: noise seed.
        with_meta: write ``meta/{train,val}.txt`` (mmpretrain's
            annotation-file form) and a flat ``val/``.
    Returns:
        ``root``.
    """
    _check_counts(num_classes, 1000, train_per_class=train_per_class,
                  val_per_class=val_per_class)
    if not with_meta and num_classes != 1000:
        raise ValueError('make_imagenet(with_meta=False) needs num_classes='
                         f'1000 (mmpretrain requires 1000 class folders '
                         f'without meta/*.txt), got {num_classes}.')
    rng = np.random.default_rng(seed)
    wnids = [f'n{i:08d}' for i in range(num_classes)]
    train_lines, val_lines = [], []
    val_id = 0
    for label, wnid in enumerate(wnids):
        for i in range(train_per_class):
            rel = f'{wnid}/{wnid}_{i}.JPEG'
            _write_jpeg(osp.join(root, 'train', rel), label, size, rng)
            train_lines.append(f'{rel} {label}')
        for _ in range(val_per_class):
            val_id += 1
            name = f'ILSVRC2012_val_{val_id:08d}.JPEG'
            rel = name if with_meta else f'{wnid}/{name}'
            _write_jpeg(osp.join(root, 'val', rel), label, size, rng)
            val_lines.append(f'{rel} {label}')
    if with_meta:
        _write_lines(osp.join(root, 'meta', 'train.txt'), train_lines)
        _write_lines(osp.join(root, 'meta', 'val.txt'), val_lines)
    return root


def make_cifar(root: str, variant: str = 'cifar10', num_classes: int = 3,
               train_per_class: int = 5, test_per_class: int = 2,
               seed: int = 0) -> str:
    """The official python-pickle release, as mmpretrain's and mmequi's
    CIFAR readers expect it (``pickle.loads(..., encoding='latin1')``)::

        cifar10:  root/cifar-10-batches-py/data_batch_{1..5}, test_batch,
                  batches.meta
        cifar100: root/cifar-100-python/train, test, meta

    Batches are dicts with ``data`` (N, 3072) uint8 (channel-major rows:
    1024 R, 1024 G, 1024 B values of a 32x32 image), ``labels``
    (CIFAR-10) or ``fine_labels`` + ``coarse_labels`` (CIFAR-100),
    ``filenames`` and ``batch_label``; the meta file lists all 10 / 100
    official class names (``label_names`` / ``fine_label_names`` +
    ``coarse_label_names``). The training images are spread over the five
    CIFAR-10 batches. The md5s differ from the official files: read them
    with ``check_md5=False``.

    Args:
        root: output folder (created).
        variant: ``'cifar10'`` or ``'cifar100'``.
        num_classes: classes used (labels 0..num_classes-1 of the official
            list).
        train_per_class / test_per_class: images per class and split.
        seed: noise seed.
    Returns:
        ``root``.
    """
    from mmpretrain.datasets.categories import (CIFAR10_CATEGORIES,
                                                CIFAR100_CATEGORIES)
    if variant not in ('cifar10', 'cifar100'):
        raise ValueError(f"variant must be 'cifar10' or 'cifar100', got "
                         f'{variant!r}.')
    names = CIFAR10_CATEGORIES if variant == 'cifar10' else \
        CIFAR100_CATEGORIES
    _check_counts(num_classes, len(names), train_per_class=train_per_class,
                  test_per_class=test_per_class)
    rng = np.random.default_rng(seed)

    def batch(per_class: int, label: str) -> Dict[str, object]:
        labels = np.repeat(np.arange(num_classes), per_class)
        rng.shuffle(labels)
        data = np.stack([
            _class_image(int(y), 32, rng).transpose(2, 0, 1).reshape(-1)
            for y in labels
        ]) if len(labels) else np.zeros((0, 3072), np.uint8)
        files = [f'fixture_{label}_{i}.png' for i in range(len(labels))]
        entry = dict(batch_label=label, data=data, filenames=files)
        if variant == 'cifar10':
            entry['labels'] = [int(y) for y in labels]
        else:
            entry['fine_labels'] = [int(y) for y in labels]
            entry['coarse_labels'] = [int(y) % 20 for y in labels]
        return entry

    def dump(obj: object, name: str) -> None:
        with open(osp.join(folder, name), 'wb') as f:
            pickle.dump(obj, f, protocol=2)

    if variant == 'cifar10':
        folder = osp.join(root, 'cifar-10-batches-py')
        os.makedirs(folder, exist_ok=True)
        train = batch(train_per_class, 'training')
        n = len(train['labels'])
        bounds = np.linspace(0, n, 6).astype(int)
        for k in range(5):
            sl = slice(bounds[k], bounds[k + 1])
            dump(dict(batch_label=f'training batch {k + 1} of 5',
                      data=train['data'][sl], labels=train['labels'][sl],
                      filenames=train['filenames'][sl]),
                 f'data_batch_{k + 1}')
        dump(batch(test_per_class, 'testing batch 1 of 1'), 'test_batch')
        dump(dict(label_names=list(names), num_cases_per_batch=10000,
                  num_vis=3072), 'batches.meta')
    else:
        folder = osp.join(root, 'cifar-100-python')
        os.makedirs(folder, exist_ok=True)
        dump(batch(train_per_class, 'training batch 1 of 1'), 'train')
        dump(batch(test_per_class, 'testing batch 1 of 1'), 'test')
        dump(dict(fine_label_names=list(names),
                  coarse_label_names=[f'superclass_{i}' for i in range(20)]),
             'meta')
    return root


def make_fgvc_aircraft(root: str, num_classes: int = 3,
                       train_per_class: int = 2, test_per_class: int = 1,
                       size: int = 32, seed: int = 0) -> str:
    """FGVC-Aircraft 2013b (variant level) as mmpretrain's ``FGVCAircraft``
    reads it::

        root/data/images/<7-digit id>.jpg
        root/data/images_variant_{train,val,trainval,test}.txt
            "<id> <variant name>" (names may contain spaces)
        root/data/variants.txt   (all 100 official variant names)

    ``train`` and ``val`` split the ``trainval`` images (val: the first
    image of a class when it has more than one).

    Returns:
        ``root``.
    """
    from mmpretrain.datasets.categories import FGVCAIRCRAFT_CATEGORIES
    _check_counts(num_classes, len(FGVCAIRCRAFT_CATEGORIES),
                  train_per_class=train_per_class,
                  test_per_class=test_per_class)
    rng = np.random.default_rng(seed)
    data = osp.join(root, 'data')
    splits: Dict[str, List[str]] = dict(train=[], val=[], trainval=[],
                                        test=[])
    image_id = 1000000
    for label in range(num_classes):
        name = FGVCAIRCRAFT_CATEGORIES[label]
        for i in range(train_per_class + test_per_class):
            image_id += 1
            _write_jpeg(osp.join(data, 'images', f'{image_id:07d}.jpg'),
                        label, size, rng)
            line = f'{image_id:07d} {name}'
            if i >= train_per_class:
                splits['test'].append(line)
                continue
            splits['trainval'].append(line)
            to_val = i == 0 and train_per_class > 1
            splits['val' if to_val else 'train'].append(line)
    for split, lines in splits.items():
        _write_lines(osp.join(data, f'images_variant_{split}.txt'), lines)
    _write_lines(osp.join(data, 'variants.txt'), FGVCAIRCRAFT_CATEGORIES)
    return root


def make_oxford_pets(root: str, num_classes: int = 3,
                     train_per_class: int = 2, test_per_class: int = 1,
                     size: int = 32, seed: int = 0) -> str:
    """Oxford-IIIT Pets as mmpretrain's ``OxfordIIITPet`` reads it::

        root/images/<Breed_name>_<n>.jpg
        root/annotations/{trainval,test,list}.txt
            "<Breed_name>_<n> <class id 1..37> <species 1=cat 2=dog>
             <breed id within species>"

    As in the release, cat breeds are the capitalised names.

    Returns:
        ``root``.
    """
    from mmpretrain.datasets.categories import OxfordIIITPet_CATEGORIES
    names = OxfordIIITPet_CATEGORIES
    _check_counts(num_classes, len(names), train_per_class=train_per_class,
                  test_per_class=test_per_class)
    rng = np.random.default_rng(seed)
    breed_ids = {1: 0, 2: 0}
    trainval, test = [], []
    for label in range(num_classes):
        name = names[label]
        species = 1 if name[:1].isupper() else 2
        breed_ids[species] += 1
        for i in range(train_per_class + test_per_class):
            stem = f'{name}_{i + 1}'
            _write_jpeg(osp.join(root, 'images', f'{stem}.jpg'), label, size,
                        rng)
            line = f'{stem} {label + 1} {species} {breed_ids[species]}'
            (trainval if i < train_per_class else test).append(line)
    ann = osp.join(root, 'annotations')
    _write_lines(osp.join(ann, 'trainval.txt'), trainval)
    _write_lines(osp.join(ann, 'test.txt'), test)
    _write_lines(osp.join(ann, 'list.txt'),
                 ['#Image CLASS-ID SPECIES BREED ID'] + trainval + test)
    return root


def make_food101(root: str, num_classes: int = 3, train_per_class: int = 2,
                 test_per_class: int = 1, size: int = 32,
                 seed: int = 0) -> str:
    """Food-101 as mmpretrain's ``Food101`` reads it::

        root/images/<class>/<numeric id>.jpg
        root/meta/{train,test}.txt   "<class>/<numeric id>"
        root/meta/classes.txt        (all 101 official class names)

    Returns:
        ``root``.
    """
    from mmpretrain.datasets.categories import FOOD101_CATEGORIES
    _check_counts(num_classes, len(FOOD101_CATEGORIES),
                  train_per_class=train_per_class,
                  test_per_class=test_per_class)
    rng = np.random.default_rng(seed)
    train, test = [], []
    image_id = 100000
    for label in range(num_classes):
        name = FOOD101_CATEGORIES[label]
        for i in range(train_per_class + test_per_class):
            image_id += 1
            _write_jpeg(osp.join(root, 'images', name, f'{image_id}.jpg'),
                        label, size, rng)
            (train if i < train_per_class else test).append(
                f'{name}/{image_id}')
    _write_lines(osp.join(root, 'meta', 'train.txt'), train)
    _write_lines(osp.join(root, 'meta', 'test.txt'), test)
    _write_lines(osp.join(root, 'meta', 'classes.txt'), FOOD101_CATEGORIES)
    return root


def make_flowers102(root: str, num_classes: int = 3, train_per_class: int = 1,
                    val_per_class: int = 1, test_per_class: int = 1,
                    size: int = 32, seed: int = 0) -> str:
    """Oxford Flowers-102 as mmpretrain's ``Flowers102`` reads it::

        root/jpg/image_<5 digits>.jpg     (ids 1..N)
        root/imagelabels.mat   'labels': (1, N) uint8, class 1..102 per id
        root/setid.mat         'trnid', 'valid', 'tstid': (1, n) uint16 ids

    MATLAB v5 files (``scipy.io.savemat``), read with ``mat4py``. mat4py
    returns a one-element array as a scalar, which mmpretrain cannot
    iterate, so every split needs >= 2 images
    (``num_classes * per_class >= 2``).

    Returns:
        ``root``.
    """
    from scipy.io import savemat
    _check_counts(num_classes, 102, train_per_class=train_per_class,
                  val_per_class=val_per_class, test_per_class=test_per_class)
    for name, per in (('train_per_class', train_per_class),
                      ('val_per_class', val_per_class),
                      ('test_per_class', test_per_class)):
        if num_classes * per < 2:
            raise ValueError(f'make_flowers102: num_classes * {name} must be '
                             f'>= 2 (mat4py reads a 1-element array as a '
                             f'scalar), got {num_classes} * {per}.')
    rng = np.random.default_rng(seed)
    labels: List[int] = []
    ids: Dict[str, List[int]] = dict(trnid=[], valid=[], tstid=[])
    for key, per in (('trnid', train_per_class), ('valid', val_per_class),
                     ('tstid', test_per_class)):
        for label in range(num_classes):
            for _ in range(per):
                labels.append(label + 1)
                image_id = len(labels)
                ids[key].append(image_id)
                _write_jpeg(
                    osp.join(root, 'jpg', f'image_{image_id:05d}.jpg'),
                    label, size, rng)
    savemat(osp.join(root, 'imagelabels.mat'),
            dict(labels=np.array([labels], np.uint8)))
    savemat(osp.join(root, 'setid.mat'),
            {k: np.array([v], np.uint16) for k, v in ids.items()})
    return root


def make_inat2018(root: str, num_classes: int = 3, train_per_class: int = 2,
                  val_per_class: int = 1, size: int = 32,
                  seed: int = 0) -> str:
    """iNaturalist 2018 (official release) as mmequi's ``INaturalist2018``
    reads it::

        root/train2018.json, root/val2018.json   (COCO-style)
        root/train_val2018/<supercategory>/<category_id>/<hash>.jpg

    Both json files list all categories (``id`` 0..num_classes-1, ``name``,
    ``supercategory`` and the taxonomy fields of the release), the split's
    ``images`` (``id``, ``file_name``, ``width``, ``height``, ``license``,
    ``rights_holder``) and one ``annotations`` entry per image.

    Returns:
        ``root``.
    """
    _check_counts(num_classes, 8142, train_per_class=train_per_class,
                  val_per_class=val_per_class)
    rng = np.random.default_rng(seed)
    supers = ('Plantae', 'Insecta', 'Aves')
    categories = []
    for c in range(num_classes):
        categories.append(dict(
            id=c, name=f'species_{c:04d}', supercategory=supers[c % 3],
            kingdom=f'kingdom_{c % 3}', phylum=f'phylum_{c % 3}',
            **{'class': f'class_{c % 3}'}, order=f'order_{c}',
            family=f'family_{c}', genus=f'genus_{c}'))
    image_id = 0
    for split, per in (('train', train_per_class), ('val', val_per_class)):
        images, annotations = [], []
        for c, cat in enumerate(categories):
            for _ in range(per):
                image_id += 1
                digest = f'{rng.integers(0, 2**63):016x}{image_id:016x}'
                rel = f'train_val2018/{cat["supercategory"]}/{c}/{digest}.jpg'
                _write_jpeg(osp.join(root, rel), c, size, rng)
                images.append(dict(id=image_id, file_name=rel, width=size,
                                   height=size, license=1,
                                   rights_holder='mmequi fixture'))
                annotations.append(dict(id=image_id, image_id=image_id,
                                        category_id=c))
        ann = dict(
            info=dict(year=2018, version='1.0', description='mmequi fixture',
                      contributor='mmequi', url='', date_created='2018'),
            images=images, annotations=annotations, categories=categories,
            licenses=[dict(id=1, name='fixture', url='')])
        os.makedirs(root, exist_ok=True)
        with open(osp.join(root, f'{split}2018.json'), 'w') as f:
            json.dump(ann, f)
    return root


#: dataset base-config name -> (writer, kwargs) for a tiny fixture of it.
FIXTURES: Dict[str, Tuple[object, dict]] = {
    'imagenet': (make_imagenet, {}),
    'cifar10': (make_cifar, dict(variant='cifar10')),
    'cifar100': (make_cifar, dict(variant='cifar100')),
    'aircraft': (make_fgvc_aircraft, {}),
    'pets': (make_oxford_pets, {}),
    'food101': (make_food101, {}),
    'flowers102': (make_flowers102, {}),
    'inat18': (make_inat2018, {}),
}


def make_classification_fixture(dataset: str, root: str, **kwargs) -> str:
    """Write the fixture of a dataset base config
    (``configs/benchmarks/classification/_base_/datasets/<dataset>.py``)
    under ``root`` and return the ``data_root`` to pass to its loaders."""
    if dataset not in FIXTURES:
        raise KeyError(f'no classification fixture for {dataset!r}; known: '
                       f'{sorted(FIXTURES)}.')
    fn, defaults = FIXTURES[dataset]
    return fn(root, **{**defaults, **kwargs})
