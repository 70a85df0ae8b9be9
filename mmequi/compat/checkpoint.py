"""Safe checkpoint loading on torch >= 2.6 and crash-safe checkpoint writing.

Loading -- why: torch 2.6 made ``torch.load(weights_only=True)`` the default.
mmengine 0.10.7 calls ``torch.load(filename, map_location=...)`` and its
runner checkpoints hold a few non-tensor types, so ``--resume``,
``load_from`` and ``init_cfg=dict(type='Pretrained')`` fail with
``Unsupported global: mmengine.logging.history_buffer.HistoryBuffer``
(upstream open-mmlab/mmengine#1655; the open PR #1650 would set
weights_only=False, i.e. unsafe). Setting
``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1`` would run any pickle.

What: we keep ``weights_only=True`` and allow-list exactly the globals a
runner checkpoint contains (found with
``torch.serialization.get_unsafe_globals_in_checkpoint`` on checkpoints of
the four toolboxes, see ``tests/compat/test_checkpoint.py``):

* ``mmengine.logging.history_buffer.HistoryBuffer`` (message hub scalars).
  Its ``__getstate__`` also pickles its statistics methods as
  ``getattr(HistoryBuffer, 'min')`` etc., so the name ``builtins.getattr``
  is mapped to :func:`_history_buffer_getattr`, which resolves exactly those
  attributes of ``HistoryBuffer`` and refuses everything else (a free
  ``getattr`` would let a pickle reach arbitrary code),
* numpy arrays (``numpy._core.multiarray._reconstruct``, ``numpy.ndarray``),
  numpy scalars (``numpy._core.multiarray.scalar``) and numpy dtypes
  (``numpy.dtype`` and the ``numpy.dtypes.*DType`` classes numpy >= 1.25
  pickles them as), also under their numpy 1.x names ``numpy.core.*`` so
  checkpoints written with numpy 1 still load.

mmengine's local-file loader is re-registered (``CheckpointLoader`` scheme
``''``) to pass ``weights_only=True`` explicitly -- so the
``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD`` environment variable cannot turn it off
-- and to turn torch's ``UnpicklingError`` into :class:`UnsafeCheckpointError`
naming the file and the offending globals. There is no unsafe fallback.
The other schemes (``http(s)://``, ``torchvision://``, ``s3://`` ...) end
in the same loader (:mod:`.checkpoint_schemes`). Messages: a refusal ends
with our advice and the refused globals (for legacy ``torch.save`` files and
raw pickles, whose torch error may name none or end with "Please file an
issue", the globals come from a ``pickletools`` scan that unpickles
nothing); a truncated or non-torch file raises
:class:`IncompleteCheckpointError` naming it.

Writing -- why: mmengine's ``LocalBackend.put`` opens the final path with
``'wb'`` and writes into it, so a job killed while saving (SLURM time limit,
pre-emption) leaves a truncated ``epoch_N.pth`` that ``--resume`` then picks
up. What: ``put``/``put_text`` write to a temporary file in the same
directory, fsync it and ``os.replace`` it onto the target (atomic on POSIX);
a failed write (``ENOSPC`` ...) raises ``OSError`` naming the target path.
"""
import io
import os
import os.path as osp
import pickle
import re
import struct
import tempfile
import zipfile
from typing import Any, List, Optional, Tuple, Union

import numpy as np
import torch


#: torch's loader, bound at import: :mod:`.checkpoint_schemes` replaces
#: ``torch.load`` while a scheme loader runs, and that replacement ends here.
_TORCH_LOAD = torch.serialization.load


class UnsafeCheckpointError(pickle.UnpicklingError):
    """A checkpoint's pickle references code outside the allow-list."""


class IncompleteCheckpointError(RuntimeError):
    """A checkpoint file ends early (a killed write, a broken download) or
    is no torch file at all."""


def _numpy_globals() -> List[Union[Any, Tuple[Any, str]]]:
    """numpy arrays, scalars and dtypes, under numpy 2 and numpy 1 names."""
    core = np._core if hasattr(np, '_core') else np.core
    multiarray = core.multiarray
    out: List[Union[Any, Tuple[Any, str]]] = [
        multiarray._reconstruct, multiarray.scalar, np.ndarray, np.dtype
    ]
    # numpy 1.x wrote these paths; the same functions live in numpy._core now.
    out += [(multiarray._reconstruct, 'numpy.core.multiarray._reconstruct'),
            (multiarray.scalar, 'numpy.core.multiarray.scalar')]
    dtypes = getattr(np, 'dtypes', None)
    if dtypes is not None:
        for name in sorted(dir(dtypes)):
            obj = getattr(dtypes, name)
            if isinstance(obj, type) and issubclass(obj, np.dtype):
                out.append(obj)
    return out


def _history_buffer_getattr(obj: Any, name: str) -> Any:
    """Stands in for ``builtins.getattr`` while unpickling: only the
    statistics methods of ``HistoryBuffer`` may be looked up."""
    from mmengine.logging.history_buffer import HistoryBuffer
    if obj is HistoryBuffer and name in HistoryBuffer._statistics_methods:
        return getattr(HistoryBuffer, name)
    raise pickle.UnpicklingError(
        f'checkpoint pickle calls getattr({obj!r}, {name!r}); mmequi only '
        'allows getattr(HistoryBuffer, <statistics method>)')


def safe_globals() -> List[Union[Any, Tuple[Any, str]]]:
    """The allow-list mmequi registers with ``torch.serialization``."""
    from mmengine.logging.history_buffer import HistoryBuffer
    HistoryBuffer()  # its __init__ registers the built-in statistics methods
    return [HistoryBuffer, (_history_buffer_getattr, 'builtins.getattr')
            ] + _numpy_globals()


def load_checkpoint_file(filename: str,
                         map_location: Optional[Any] = None,
                         trust_pickle: bool = False,
                         mmap: bool = False, *,
                         source: Optional[str] = None) -> Any:
    """``torch.load`` with ``weights_only=True`` and a clear refusal.

    The only ``torch.load`` call of mmequi (readers go through
    :func:`mmequi.utils.checkpoint_io.read_checkpoint`; remote schemes
    reach it through :mod:`mmequi.compat.checkpoint_schemes`).

    Args:
        filename: path of a local checkpoint.
        map_location: as for :func:`torch.load`.
        trust_pickle: the caller's explicit opt-in (a ``--trust-pickle``
            flag) to ``weights_only=False``, which runs the file's pickle;
            never a fallback.
        mmap: memory-map the tensor storages instead of reading them
            (:func:`torch.load`'s ``mmap``; e.g. to read only the meta).
        source: where the file came from (a URL or ``scheme://`` path),
            named in errors next to ``filename``.

    Raises:
        FileNotFoundError: ``filename`` does not exist.
        UnsafeCheckpointError: the pickle references globals that are not in
            :func:`safe_globals` (loading it could run code).
        IncompleteCheckpointError: the file is truncated or not a torch
            checkpoint at all.
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(
            f'checkpoint {_shown(filename, source)} can not be found.')
    if trust_pickle:
        return _TORCH_LOAD(
            filename, map_location=map_location, weights_only=False)
    return _load_weights_only(filename, _shown(filename, source),
                              map_location, mmap)


def load_checkpoint_bytes(data: bytes, name: str,
                          map_location: Optional[Any] = None) -> Any:
    """:func:`load_checkpoint_file` for a checkpoint held in memory (what a
    storage backend such as ``s3://`` returns); ``name`` is its path or
    URL, named in errors."""
    return _load_weights_only(io.BytesIO(data), name, map_location)


def _shown(filename: str, source: Optional[str]) -> str:
    """``filename``, and the URL it was fetched from, for messages."""
    if source and source != filename:
        return f'{filename} (fetched from {source})'
    return filename


#: torch's messages for a file that ends early or is no torch file at all.
_INCOMPLETE_MARKERS = ('PytorchStreamReader', 'unexpected EOF',
                       'pickle data was truncated', 'file might be corrupted',
                       'Invalid magic number', 'not a ZIP archive')


def _load_weights_only(f: Union[str, io.BytesIO], shown: str,
                       map_location: Optional[Any],
                       mmap: bool = False) -> Any:
    """``torch.load(f, weights_only=True)`` with torch's errors turned into
    :class:`UnsafeCheckpointError` / :class:`IncompleteCheckpointError`
    naming ``shown``."""
    try:
        return _TORCH_LOAD(f, map_location=map_location, weights_only=True,
                           mmap=mmap)
    except pickle.UnpicklingError as e:
        refused, ran_out = _refused_globals(f)
        if not refused and (ran_out or _is_incomplete(e)):
            raise _incomplete(shown, e) from e
        raise UnsafeCheckpointError(_refusal(shown, refused, e)) from e
    except (EOFError, IndexError, KeyError, struct.error,
            zipfile.BadZipFile) as e:
        if isinstance(e, KeyError) and _looks_like_torch_file(f):
            raise  # e.g. a map_location dict without the saved device
        raise _incomplete(shown, e) from e
    except RuntimeError as e:
        if _is_incomplete(e):
            raise _incomplete(shown, e) from e
        raise


def _is_incomplete(err: Exception) -> bool:
    return any(m in str(err) for m in _INCOMPLETE_MARKERS)


def _incomplete(shown: str, err: Exception) -> 'IncompleteCheckpointError':
    return IncompleteCheckpointError(
        'The file is not a complete checkpoint (truncated or not a torch '
        f'file): {shown} (torch: {type(err).__name__}: {_reason(err)})')


def _looks_like_torch_file(f: Union[str, io.BytesIO]) -> bool:
    """A zip archive (torch >= 1.6) or a pickle (the legacy format)."""
    head = _read_all(f)[:4]
    return head.startswith(b'PK') or head[:1] == b'\x80'


def _read_all(f: Union[str, io.BytesIO]) -> bytes:
    if isinstance(f, io.BytesIO):
        return f.getvalue()
    with open(f, 'rb') as fh:
        return fh.read()


def _refusal(shown: str, refused: List[str], err: Exception) -> str:
    """The refusal message: the file, what was refused, then our advice
    (torch's own text, with its 'Please file an issue' line, is left in
    the exception's ``__cause__``)."""
    names = ', '.join(refused) if refused else (
        f'(no global named; torch refused a pickle construct: '
        f'{_reason(err)})')
    return (
        f'Refusing to load checkpoint {shown}: its pickle references code '
        'that is not tensors, containers or the types mmengine writes '
        '(mmequi.compat.checkpoint.safe_globals); unpickling it could '
        'execute code from the file, so mmequi keeps '
        'torch.load(weights_only=True) and never falls back. If you created '
        'this file and trust it, re-save only its tensors, e.g. '
        "torch.save({'state_dict': torch.load(f, weights_only=False)"
        "['state_dict']}, out), or convert it with tools/model_converters. "
        f'Refused globals: {names}')


def _allowed_global_names() -> set:
    """Names of the globals torch's weights-only unpickler accepts (its
    built-ins and :func:`safe_globals`)."""
    from torch import _weights_only_unpickler
    names = set(_weights_only_unpickler._get_allowed_globals())
    for entry in torch.serialization.get_safe_globals():
        if isinstance(entry, tuple):
            names.add(entry[1])
        else:
            names.add(f'{entry.__module__}.{entry.__qualname__}')
    return names


def _refused_globals(f: Union[str, io.BytesIO]) -> Tuple[List[str], bool]:
    """The globals of ``f``'s pickle(s) outside the allow-list (torch's
    list for zip checkpoints, else a scan of the pickle opcodes: legacy
    ``torch.save`` files and raw pickles, for which torch may only say
    'Unsupported operand' or name a global cut off by truncation), and
    whether the pickle data ended early."""
    try:
        if isinstance(f, io.BytesIO):
            f.seek(0)
        return torch.serialization.get_unsafe_globals_in_checkpoint(f), False
    except Exception:  # not a zip checkpoint: read the opcodes ourselves
        names, ran_out = _pickle_globals(_read_all(f))
        allowed = _allowed_global_names()
        return [g for g in names if g not in allowed], ran_out


#: pickletools' messages when the data stops inside a pickle.
_RAN_OUT = ('remain', 'no newline found', 'exhausted before seeing STOP')


def _pickle_globals(data: bytes) -> Tuple[List[str], bool]:
    """The ``module.name`` of every complete GLOBAL / STACK_GLOBAL of the
    pickles at the start of ``data`` (a legacy torch file holds several in
    a row, then raw tensor bytes), found without unpickling
    (``pickletools.genops``), and whether the data ended inside a pickle."""
    import pickletools
    out: List[str] = []
    stream = io.BytesIO(data)
    while stream.tell() < len(data):
        stack: List[Any] = []
        memo: dict = {}
        try:
            for op, arg, _ in pickletools.genops(stream):
                if op.name == 'GLOBAL':
                    out.append(arg.replace(' ', '.'))
                elif op.name == 'STACK_GLOBAL' and len(stack) >= 2:
                    out.append(f'{stack[-2]}.{stack[-1]}')
                elif op.name == 'MEMOIZE' and stack:
                    memo[len(memo)] = stack[-1]
                elif op.name in ('BINPUT', 'LONG_BINPUT', 'PUT') and stack:
                    memo[arg] = stack[-1]
                elif op.name in ('BINGET', 'LONG_BINGET', 'GET'):
                    stack.append(memo.get(arg))
                elif isinstance(arg, str):
                    stack.append(arg)
        except Exception as e:  # raw tensor bytes after the pickles, or cut
            return list(dict.fromkeys(out)), any(m in str(e)
                                                 for m in _RAN_OUT)
    return list(dict.fromkeys(out)), False


def _reason(err: Exception) -> str:
    """The informative line of torch's error, without its boilerplate
    ('Please file an issue ...', 'This is an internal miniz error ...')."""
    lines = [ln.strip() for ln in str(err).splitlines() if ln.strip()]
    picked = next((ln for ln in lines if 'GLOBAL' in ln or 'Unsupported' in ln
                   or 'zip archive' in ln), None)
    if picked is None:
        informative = [ln for ln in lines if not ln.startswith(
            ('Weights only load failed', 'Check the documentation',
             'Please file an issue'))]
        picked = (informative or lines or [repr(err)])[0]
    return picked.split('. This is an internal miniz error')[0]


def _load_from_local(filename: str, map_location: Optional[Any] = None):
    """mmengine ``CheckpointLoader`` scheme for local paths (safe)."""
    return load_checkpoint_file(filename, map_location)


# already weights-only: checkpoint_schemes need not wrap it
_load_from_local.__mmequi_weights_only__ = True  # type: ignore[attr-defined]


def atomic_write(data: Union[bytes, str], filepath: Union[str, os.PathLike],
                 encoding: str = 'utf-8') -> None:
    """Write ``data`` to ``filepath`` so that readers see the old file or the
    complete new one, never a truncated one (temp file + fsync + rename).

    Raises:
        OSError: the write failed (e.g. ``ENOSPC``, disk full); same errno,
            the message and ``filename`` name ``filepath``; the temporary
            file is removed and an existing ``filepath`` is left as it was.
    """
    filepath = os.fspath(filepath)
    dirname = osp.dirname(osp.abspath(filepath))
    os.makedirs(dirname, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        dir=dirname, prefix=f'.{osp.basename(filepath)}.', suffix='.tmp')
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(data.encode(encoding) if isinstance(data, str) else data)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600
        os.replace(tmp, filepath)
    except BaseException as e:
        if osp.exists(tmp):
            os.remove(tmp)
        if isinstance(e, OSError) and e.filename is None:
            # a failed write/fsync (ENOSPC, EDQUOT, EIO) names no file
            raise OSError(e.errno, f'{e.strerror or e} while writing '
                          f'{filepath} (temporary file {tmp} removed)',
                          filepath) from e
        raise


def _put(self, obj: bytes, filepath) -> None:
    atomic_write(obj, filepath)


def _put_text(self, obj: str, filepath, encoding: str = 'utf-8') -> None:
    atomic_write(obj, filepath, encoding=encoding)


def install() -> str:
    from mmengine.fileio.backends.local_backend import LocalBackend
    from mmengine.runner.checkpoint import CheckpointLoader

    torch.serialization.add_safe_globals(safe_globals())
    CheckpointLoader.register_scheme(
        prefixes='', force=True)(_load_from_local)
    LocalBackend.put = _put
    LocalBackend.put_text = _put_text
    return ('torch.load(weights_only=True) + allow-list of mmengine types; '
            'atomic checkpoint writes')
