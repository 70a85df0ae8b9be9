"""Weights-only loading for every checkpoint scheme, not only local paths.

Why: :mod:`.checkpoint` replaces mmengine's local-path loader only. In
mmengine 0.10.7 (``mmengine/runner/checkpoint.py``) the other schemes of
``CheckpointLoader`` load elsewhere:

* ``http://``/``https://`` (``load_from_http``), and through it
  ``torchvision://``/``modelzoo://``, ``mmcls://`` and the URL entries of
  ``open-mmlab://``/``openmmlab://``, call
  ``mmengine.utils.dl_utils.load_url``, which is
  ``torch.hub.load_state_dict_from_url`` (via
  ``torch.utils.model_zoo.load_url``); its ``weights_only`` defaults to
  ``False``, so the downloaded (or cached, ``$TORCH_HOME/hub/checkpoints``)
  file's pickle runs.
* ``pavi://``, ``s3://``/``petrel://`` (``load_from_ceph``) and the local
  entries of ``open-mmlab://`` call ``torch.load`` without ``weights_only``,
  which ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1`` turns into an unsafe load.

What:

1. ``torch.hub.load_state_dict_from_url`` is replaced by
   :func:`load_url_weights_only` (same cache and download, then
   :func:`.checkpoint.load_checkpoint_file`), also where it was already bound
   under another name (``torch.utils.model_zoo.load_url``,
   ``mmengine.utils.dl_utils.load_url``,
   ``mmengine.runner.checkpoint.load_url``, torchvision's weight enums
   ...): every module in ``sys.modules`` holding the original function
   gets the replacement.
2. Every scheme registered in ``CheckpointLoader._schemes`` when mmequi is
   imported -- enumerated, not listed by hand -- is wrapped by
   :func:`_weights_only_scheme`: while the loader runs, ``torch.load`` is
   :func:`_forced_torch_load` (weights-only through the same loader, whatever
   ``weights_only`` the caller passed), so the loaders' own ``torch.load``
   calls are safe too. mmengine's module-level helpers (``load_from_http``,
   ``load_from_torchvision``, ...) are replaced by the wrapped loaders, so
   direct calls are covered.
3. A scheme registered later (``CheckpointLoader.register_scheme``) is
   wrapped the same way when it is registered (logged).

While a scheme loader runs, ``torch.load`` is replaced process-wide (a
counted swap, restored by the last loader to finish), so a ``torch.load`` in
another thread at that moment is weights-only too: stricter, never looser.

Every refusal is :class:`.checkpoint.UnsafeCheckpointError` naming the cached
file, the URL and the refused globals. Not covered: a loader that unpickles
with something other than ``torch.load``/``torch.hub`` (e.g. ``pickle.load``);
no scheme of mmengine 0.10.7 does.
"""
import functools
import logging
import os
import sys
import threading
import zipfile
from typing import Any, Callable, Dict, List, Optional
from urllib.parse import urlparse

import torch
from mmengine.logging import print_log

from .checkpoint import load_checkpoint_bytes, load_checkpoint_file

_MARK = '__mmequi_weights_only__'
_LOCK = threading.RLock()
_STATE = threading.local()  # .sources: the scheme paths being loaded
_DEPTH = [0]  # scheme loaders running (all threads)
_ORIGINAL_TORCH_LOAD: List[Callable] = []


def _sources() -> List[str]:
    if not hasattr(_STATE, 'sources'):
        _STATE.sources = []
    return _STATE.sources


def _source_of(url: str) -> str:
    """``url``, and the scheme path that led to it (``torchvision://x``)."""
    outer = _sources()
    if outer and outer[0] != url:
        return f'{url}, for {outer[0]}'
    return url


def load_url_weights_only(url: str, model_dir: Optional[str] = None,
                          map_location: Optional[Any] = None,
                          progress: bool = True, check_hash: bool = False,
                          file_name: Optional[str] = None,
                          weights_only: Optional[bool] = True) -> Any:
    """``torch.hub.load_state_dict_from_url`` that always loads weights-only.

    Same cache as torch: ``<model_dir or $TORCH_HOME/hub/checkpoints>/
    <file_name or the URL's basename>``, downloaded with
    ``torch.hub.download_url_to_file`` when absent (``check_hash`` as in
    torch). A cached file is read without downloading. A legacy zip (one
    member, torch < 1.6) is extracted next to it first, as torch does.

    Args:
        url, model_dir, map_location, progress, check_hash, file_name: as for
            :func:`torch.hub.load_state_dict_from_url`.
        weights_only: kept for the signature; ``False`` is ignored with a
            warning (the file is still loaded weights-only).

    Raises:
        mmequi.compat.checkpoint.UnsafeCheckpointError: the pickle needs
            globals outside the allow-list; names the cached file and URL.
        mmequi.compat.checkpoint.IncompleteCheckpointError: truncated file.
    """
    if weights_only is False:
        print_log(
            f'mmequi: a caller asked to unpickle {url} with '
            'weights_only=False; loading it weights-only '
            '(mmequi.compat.checkpoint_schemes)', logger='current',
            level=logging.WARNING)
    if model_dir is None:
        model_dir = os.path.join(torch.hub.get_dir(), 'checkpoints')
    os.makedirs(model_dir, exist_ok=True)
    name = file_name or os.path.basename(urlparse(url).path)
    cached = os.path.join(model_dir, name)
    if not os.path.exists(cached):
        prefix = None
        if check_hash:
            match = torch.hub.HASH_REGEX.search(name)
            prefix = match.group(1) if match else None
        sys.stderr.write(f'mmequi: downloading {url} to {cached}\n')
        torch.hub.download_url_to_file(url, cached, prefix,
                                       progress=progress)
    cached = _unpack_legacy_zip(cached, model_dir)
    return load_checkpoint_file(cached, map_location,
                                source=_source_of(url))


def _unpack_legacy_zip(path: str, model_dir: str) -> str:
    """The file inside a one-member zip (pre-1.6 torch hub archives), else
    ``path``; the member is written under its base name only."""
    if not zipfile.is_zipfile(path):
        return path
    with zipfile.ZipFile(path) as zf:
        members = zf.infolist()
        if len(members) != 1 or members[0].is_dir():
            return path  # a torch >= 1.6 checkpoint is a many-member zip
        target = os.path.join(model_dir,
                              os.path.basename(members[0].filename))
        with zf.open(members[0]) as src, open(target, 'wb') as dst:
            dst.write(src.read())
    return target


def _forced_torch_load(f: Any, map_location: Optional[Any] = None,
                       *args: Any, weights_only: Optional[bool] = None,
                       **kwargs: Any) -> Any:
    """What ``torch.load`` is while a scheme loader runs: the weights-only
    loader for a path or a file object, whatever ``weights_only`` says."""
    source = _sources()[0] if _sources() else None
    if weights_only is False:
        print_log(f'mmequi: the loader of {source} asked torch.load for '
                  'weights_only=False; loading weights-only',
                  logger='current', level=logging.WARNING)
    if isinstance(f, (str, os.PathLike)):
        return load_checkpoint_file(os.fspath(f), map_location,
                                    source=source)
    data = f.read()
    return load_checkpoint_bytes(data, source or repr(f), map_location)


class _TorchLoadForced:
    """Context: ``torch.load`` and ``torch.serialization.load`` are
    :func:`_forced_torch_load` while any scheme loader runs (counted over
    threads, restored by the last). The weights-only loader itself calls
    the function bound at import (``checkpoint._TORCH_LOAD``)."""

    def __init__(self, source: str):
        self.source = source

    def __enter__(self) -> None:
        _sources().append(self.source)
        with _LOCK:
            if _DEPTH[0] == 0:
                _ORIGINAL_TORCH_LOAD[:] = [torch.load,
                                           torch.serialization.load]
                torch.load = _forced_torch_load
                torch.serialization.load = _forced_torch_load
            _DEPTH[0] += 1

    def __exit__(self, *exc: Any) -> None:
        with _LOCK:
            _DEPTH[0] -= 1
            if _DEPTH[0] == 0:
                torch.load, torch.serialization.load = _ORIGINAL_TORCH_LOAD
        _sources().pop()


def _weights_only_scheme(loader: Callable) -> Callable:
    """``loader`` (a ``CheckpointLoader`` scheme function
    ``(filename, map_location, ...)``) run with every ``torch.load`` and
    ``torch.hub`` load weights-only."""
    if getattr(loader, _MARK, False):
        return loader

    @functools.wraps(loader)
    def wrapped(filename: str, *args: Any, **kwargs: Any) -> Any:
        with _TorchLoadForced(filename):
            return loader(filename, *args, **kwargs)

    setattr(wrapped, _MARK, True)
    return wrapped


def _rebind(replacements: Dict[int, Callable]) -> List[str]:
    """In every loaded module, replace each attribute that is one of the
    originals (keyed by ``id``) by its replacement; the names replaced."""
    done = []
    for mod_name, module in list(sys.modules.items()):
        namespace = getattr(module, '__dict__', None)
        if not isinstance(namespace, dict):
            continue
        for attr, value in list(namespace.items()):
            new = replacements.get(id(value))
            if new is not None and value is not new:
                setattr(module, attr, new)
                done.append(f'{mod_name}.{attr}')
    return done


def _wrap_registered_schemes(loader_cls: type, helpers: Any) -> List[str]:
    """Wrap every scheme now in ``loader_cls._schemes`` and every
    ``load_from_*`` function of the module ``helpers`` (mmengine's
    ``load_from_http`` etc., also where they were imported by name);
    returns the scheme prefixes."""
    replacements: Dict[int, Callable] = {}
    for prefix, loader in list(loader_cls._schemes.items()):
        safe = replacements.get(id(loader)) or _weights_only_scheme(loader)
        replacements[id(loader)] = safe
        loader_cls._schemes[prefix] = safe
    for name, fn in list(vars(helpers).items()):
        if name.startswith('load_from_') and callable(fn):
            safe = replacements.get(id(fn)) or _weights_only_scheme(fn)
            replacements[id(fn)] = safe
    _rebind(replacements)
    return list(loader_cls._schemes)


def _patch_register_scheme(loader_cls: type) -> None:
    """Schemes registered after ``import mmequi`` are wrapped too."""
    original = loader_cls.__dict__['_register_scheme'].__func__
    if getattr(original, _MARK, False):
        return

    @functools.wraps(original)
    def _register_scheme(cls, prefixes, loader, force=False):
        safe = _weights_only_scheme(loader)
        if safe is not loader:
            print_log(
                f'mmequi: checkpoint scheme {prefixes!r} '
                f'({getattr(loader, "__module__", "?")}.'
                f'{getattr(loader, "__qualname__", loader)}) registered '
                'after import mmequi: its torch.load / torch.hub loads run '
                'weights-only', logger='current', level=logging.INFO)
        return original(cls, prefixes, safe, force=force)

    setattr(_register_scheme, _MARK, True)
    loader_cls._register_scheme = classmethod(_register_scheme)


def install() -> str:
    """Apply 1.-3. of the module docstring; idempotent."""
    import mmengine.runner.checkpoint  # registers mmengine's schemes
    from mmengine.runner.checkpoint import CheckpointLoader

    hub_load = torch.hub.load_state_dict_from_url
    if hub_load is not load_url_weights_only:
        _rebind({id(hub_load): load_url_weights_only})
    prefixes = _wrap_registered_schemes(CheckpointLoader,
                                        mmengine.runner.checkpoint)
    _patch_register_scheme(CheckpointLoader)
    shown = ', '.join(repr(p) for p in prefixes)
    return ('weights-only for torch.hub.load_state_dict_from_url and every '
            f'CheckpointLoader scheme: {shown} (later ones too)')
