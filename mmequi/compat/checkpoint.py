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

Writing -- why: mmengine's ``LocalBackend.put`` opens the final path with
``'wb'`` and writes into it, so a job killed while saving (SLURM time limit,
pre-emption) leaves a truncated ``epoch_N.pth`` that ``--resume`` then picks
up. What: ``put``/``put_text`` write to a temporary file in the same
directory, fsync it and ``os.replace`` it onto the target (atomic on POSIX).
"""
import os
import os.path as osp
import pickle
import tempfile
from typing import Any, List, Optional, Tuple, Union

import numpy as np
import torch


class UnsafeCheckpointError(pickle.UnpicklingError):
    """A checkpoint's pickle references code outside the allow-list."""


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
                         mmap: bool = False) -> Any:
    """``torch.load`` with ``weights_only=True`` and a clear refusal.

    The only ``torch.load`` call of mmequi (readers go through
    :func:`mmequi.utils.checkpoint_io.read_checkpoint`).

    Args:
        filename: path of a local checkpoint.
        map_location: as for :func:`torch.load`.
        trust_pickle: the caller's explicit opt-in (a ``--trust-pickle``
            flag) to ``weights_only=False``, which runs the file's pickle;
            never a fallback.
        mmap: memory-map the tensor storages instead of reading them
            (:func:`torch.load`'s ``mmap``; e.g. to read only the meta).

    Raises:
        FileNotFoundError: ``filename`` does not exist.
        UnsafeCheckpointError: the pickle references globals that are not in
            :func:`safe_globals` (loading it could run code).
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint {filename} can not be found.')
    if trust_pickle:
        return torch.load(
            filename, map_location=map_location, weights_only=False)
    try:
        return torch.load(filename, map_location=map_location,
                          weights_only=True, mmap=mmap)
    except pickle.UnpicklingError as e:
        try:
            bad = torch.serialization.get_unsafe_globals_in_checkpoint(
                filename)
        except Exception:  # legacy (non-zip) format: torch's text has it
            bad = []
        names = ', '.join(bad) if bad else '(see the torch error below)'
        raise UnsafeCheckpointError(
            f'Refusing to load checkpoint {filename}: its pickle references '
            f'{names}, which are not tensors, containers or the types '
            'mmengine writes (mmequi.compat.checkpoint.safe_globals). '
            'Unpickling it could execute code from the file, so mmequi '
            'keeps torch.load(weights_only=True) and never falls back. If '
            'you created this file and trust it, re-save only its tensors, '
            "e.g. torch.save({'state_dict': torch.load(f, weights_only="
            "False)['state_dict']}, out), or convert it with "
            f'tools/model_converters. torch said: {_reason(e)}') from e


def _reason(err: Exception) -> str:
    """The informative line of torch's weights-only error."""
    lines = [ln.strip() for ln in str(err).splitlines() if ln.strip()]
    for ln in lines:
        if 'WeightsUnpickler error' in ln:
            return ln
    return lines[-1] if lines else repr(err)


def _load_from_local(filename: str, map_location: Optional[Any] = None):
    """mmengine ``CheckpointLoader`` scheme for local paths (safe)."""
    return load_checkpoint_file(filename, map_location)


def atomic_write(data: Union[bytes, str], filepath: Union[str, os.PathLike],
                 encoding: str = 'utf-8') -> None:
    """Write ``data`` to ``filepath`` so that readers see the old file or the
    complete new one, never a truncated one (temp file + fsync + rename)."""
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
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
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
