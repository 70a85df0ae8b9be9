"""Classification transfer datasets mmpretrain 1.2.0 does not cover as needed.

Used by the linear-probe / fine-tuning benchmarks of Wang et al. (AAAI-26,
Table 5: CIFAR-10/100, FGVC-Aircraft, Pets, Food-101, Flowers, iNat18,
ImageNet) in ``configs/benchmarks/classification``.

* :class:`OfflineCIFAR10` / :class:`OfflineCIFAR100` read the official
  python-pickle batches exactly as mmpretrain's ``CIFAR10`` / ``CIFAR100``
  do, but never download and validate the files by their *structure*
  (keys, dtype, shape, label range, class count of the meta file), with the
  official md5 checksums as an optional extra check (``check_md5``, default
  True). mmpretrain's classes accept only files with the official md5s, so
  a generated fixture, a re-pickled or a converted copy cannot be read, and
  with ``download=False`` a failed check is reported as "Cannot find ...
  dataset" whatever the actual problem was.
* :class:`INaturalist2018` reads the official iNaturalist 2018 competition
  layout (COCO-style ``train2018.json`` / ``val2018.json``); mmpretrain
  1.2.0 ships no iNat dataset class.
"""
import json
import pickle
from typing import List, Optional, Sequence, Tuple

import numpy as np
from mmengine.fileio import exists, get, join_path
from mmpretrain.datasets import CIFAR10, CIFAR100, BaseDataset
from mmpretrain.datasets.utils import calculate_md5
from mmpretrain.registry import DATASETS

__all__ = ['OfflineCIFAR10', 'OfflineCIFAR100', 'INaturalist2018']

_CIFAR_PIXELS = 3 * 32 * 32


class _OfflineCIFARMixin:
    """Structure-validated, download-free loading of the CIFAR pickles.

    The file lists, folder names and md5s are the class attributes of
    mmpretrain's ``CIFAR10`` / ``CIFAR100`` (``base_folder``,
    ``train_list``, ``test_list``, ``meta``). Only the files of the
    requested split and the meta file are read.
    """

    label_key: str = 'labels'

    def __init__(self,
                 data_root: str = '',
                 split: str = 'train',
                 download: bool = False,
                 check_md5: bool = True,
                 **kwargs) -> None:
        if download:
            raise ValueError(
                f'{type(self).__name__}: download must be False (this '
                'class never downloads); put the extracted '
                f"'{self.base_folder}/' folder under data_root "
                f'({data_root!r}).')
        self.check_md5 = bool(check_md5)
        super().__init__(
            data_root=data_root, split=split, download=False, **kwargs)

    def _split_files(self) -> List[Tuple[str, Optional[str]]]:
        return [tuple(entry) for entry in (
            self.train_list if self.split == 'train' else self.test_list)]

    def _read_pickle(self, name: str, md5: Optional[str]) -> dict:
        root = self.data_prefix['root']
        path = join_path(root, self.base_folder, name)
        if not exists(path):
            raise FileNotFoundError(
                f'{type(self).__name__}: missing file {path} (expected the '
                f"official '{self.base_folder}' python batches under "
                'data_root).')
        if self.check_md5 and md5 is not None:
            actual = calculate_md5(path)
            if actual != md5:
                raise ValueError(
                    f'{type(self).__name__}: md5 of {path} is {actual}, the '
                    f'official file has {md5}. Pass check_md5=False to read '
                    'a regenerated or converted copy (structure is still '
                    'validated).')
        try:
            entry = pickle.loads(get(path), encoding='latin1')
        except Exception as exc:  # noqa: BLE001 - re-raised with the path
            raise ValueError(f'{type(self).__name__}: {path} is not a '
                             f'python pickle: {exc}') from exc
        if not isinstance(entry, dict):
            raise ValueError(f'{type(self).__name__}: {path} holds a '
                             f'{type(entry).__name__}, expected a dict.')
        return entry

    def load_data_list(self) -> List[dict]:
        """Read the split's batches: ``img`` (32, 32, 3) uint8 RGB arrays and
        ``gt_label`` ints, validated per file."""
        num_classes = len(self.METAINFO['classes'])
        meta = self._read_pickle(self.meta['filename'], self.meta['md5'])
        meta_path = join_path(self.data_prefix['root'], self.base_folder,
                              self.meta['filename'])
        names = meta.get(self.meta['key'])
        if names is None or len(names) != num_classes:
            raise ValueError(
                f"{type(self).__name__}: {meta_path} key '{self.meta['key']}'"
                f' must list {num_classes} class names, got '
                f'{None if names is None else len(names)}.')

        imgs, labels = [], []
        for name, md5 in self._split_files():
            path = join_path(self.data_prefix['root'], self.base_folder,
                             name)
            entry = self._read_pickle(name, md5)
            data = entry.get('data')
            if not isinstance(data, np.ndarray) or data.dtype != np.uint8 \
                    or data.ndim != 2 or data.shape[1] != _CIFAR_PIXELS:
                desc = (f'{data.dtype} array {data.shape}' if isinstance(
                    data, np.ndarray) else type(data).__name__)
                raise ValueError(
                    f"{type(self).__name__}: {path} key 'data' must be a "
                    f'uint8 array (N, {_CIFAR_PIXELS}), got {desc}.')
            if self.label_key not in entry:
                raise ValueError(
                    f'{type(self).__name__}: {path} has no '
                    f"'{self.label_key}' key (keys: {sorted(entry)}).")
            file_labels = np.asarray(entry[self.label_key])
            if file_labels.shape != (data.shape[0], ):
                raise ValueError(
                    f"{type(self).__name__}: {path} '{self.label_key}' has "
                    f'shape {file_labels.shape}, expected ({data.shape[0]},)'
                    ' (one label per row of data).')
            if file_labels.size and (file_labels.min() < 0 or
                                     file_labels.max() >= num_classes):
                raise ValueError(
                    f"{type(self).__name__}: {path} '{self.label_key}' "
                    f'values must be in [0, {num_classes}), got '
                    f'[{file_labels.min()}, {file_labels.max()}].')
            imgs.append(data)
            labels.append(file_labels)

        imgs = np.concatenate(imgs).reshape(-1, 3, 32, 32).transpose(
            0, 2, 3, 1)  # NCHW -> NHWC (RGB)
        labels = np.concatenate(labels)
        return [{'img': img, 'gt_label': int(label)}
                for img, label in zip(imgs, labels)]


@DATASETS.register_module()
class OfflineCIFAR10(_OfflineCIFARMixin, CIFAR10):
    """CIFAR-10 from ``data_root/cifar-10-batches-py/`` (``data_batch_1..5``,
    ``test_batch``, ``batches.meta``), never downloaded.

    Args:
        data_root (str): folder holding ``cifar-10-batches-py``.
        split (str): ``'train'`` (50,000 images) or ``'test'`` (10,000).
        download (bool): must be False.
        check_md5 (bool): also compare the files with the official md5s
            (mmpretrain's values). Defaults to True.
        **kwargs: :class:`mmpretrain.datasets.BaseDataset` arguments.
    """

    label_key = 'labels'


@DATASETS.register_module()
class OfflineCIFAR100(_OfflineCIFARMixin, CIFAR100):
    """CIFAR-100 (fine labels) from ``data_root/cifar-100-python/``
    (``train``, ``test``, ``meta``), never downloaded.

    Args: as :class:`OfflineCIFAR10`.
    """

    label_key = 'fine_labels'


@DATASETS.register_module()
class INaturalist2018(BaseDataset):
    """iNaturalist 2018 species classification (8,142 classes).

    Layout of the official release (github.com/visipedia/inat_comp, 2018)::

        data_root/
        ├── train2018.json     # 437,513 images
        ├── val2018.json       # 24,426 images
        └── train_val2018/<supercategory>/<category_id>/<hash>.jpg

    Each json is COCO-style: ``images`` (``id``, ``file_name`` relative to
    ``data_root``), ``annotations`` (``image_id``, ``category_id``; exactly
    one per image) and ``categories`` (``id``, ``name``; ids 0..K-1). The
    label of an image is its ``category_id`` (species level, the protocol of
    the DeiT/iBOT transfer experiments); class names come from
    ``categories`` (obfuscated in the original files, un-obfuscated in the
    later ``categories.json``).

    Args:
        data_root (str): folder holding the json files and ``train_val2018``.
        split (str): ``'train'`` or ``'val'``.
        **kwargs: :class:`mmpretrain.datasets.BaseDataset` arguments.
    """

    SPLITS: Sequence[str] = ('train', 'val')

    def __init__(self, data_root: str, split: str = 'train',
                 **kwargs) -> None:
        if split not in self.SPLITS:
            raise ValueError(f'INaturalist2018: split must be one of '
                             f'{self.SPLITS}, got {split!r}.')
        self.split = split
        super().__init__(
            ann_file=f'{split}2018.json',
            data_root=data_root,
            data_prefix='',
            test_mode=split == 'val',
            **kwargs)

    def load_data_list(self) -> List[dict]:
        """Parse the json: one ``dict(img_path, gt_label)`` per image."""
        path = self.ann_file
        if not exists(path):
            raise FileNotFoundError(f'INaturalist2018: missing annotation '
                                    f'file {path}.')
        ann = json.loads(get(path))
        for key in ('images', 'annotations', 'categories'):
            if not isinstance(ann.get(key), list):
                raise ValueError(f"INaturalist2018: {path} has no list "
                                 f"'{key}'.")
        cat_ids = sorted(int(c['id']) for c in ann['categories'])
        if cat_ids != list(range(len(cat_ids))):
            raise ValueError(f'INaturalist2018: {path} category ids must be '
                             f'0..{len(cat_ids) - 1} without gaps.')
        names = {int(c['id']): str(c['name']) for c in ann['categories']}
        self._metainfo.setdefault(
            'classes', tuple(names[i] for i in range(len(cat_ids))))

        label_of = {}
        for a in ann['annotations']:
            image_id = a['image_id']
            if image_id in label_of:
                raise ValueError(f'INaturalist2018: {path} image {image_id} '
                                 'has more than one annotation.')
            category = int(a['category_id'])
            if category not in names:
                raise ValueError(f'INaturalist2018: {path} annotation of '
                                 f'image {image_id} has unknown category '
                                 f'{category}.')
            label_of[image_id] = category

        data_list = []
        for img in ann['images']:
            if img['id'] not in label_of:
                raise ValueError(f'INaturalist2018: {path} image {img["id"]} '
                                 f'({img["file_name"]}) has no annotation.')
            data_list.append(
                dict(img_path=join_path(self.data_root, img['file_name']),
                     gt_label=label_of[img['id']]))
        return data_list
