"""A stand-in ``mmcv._ext`` for mmcv-lite installs.

Why: compiled mmcv cannot be built against torch >= 2.10 (its setup.py forces
``-std=c++17`` while torch's headers need C++20, upstream issue
open-mmlab/mmcv#3341) and no prebuilt wheel exists for current torch.
mmcv-lite has no ``mmcv._ext``, and ``mmcv/ops/__init__.py`` imports every op
module, each of which calls ``ext_loader.load_ext('_ext', [names])``
(= ``importlib.import_module('mmcv._ext')`` + ``hasattr`` checks). So
``import mmseg.models`` / ``mmdet.models`` / ``mmpose.models`` fail with
``No module named 'mmcv._ext'``.

What: when compiled mmcv is missing we put a module object in
``sys.modules['mmcv._ext']`` whose attributes are the pure PyTorch /
torchvision kernels of :mod:`mmequi.ops` (same call signatures as mmcv's C++
functions, so mmcv's own Python wrappers -- ``nms``, ``batched_nms``,
``RoIAlign``, ``RoIPool``, ``sigmoid_focal_loss`` -- run unchanged, autograd
included). Every other kernel name resolves to a function that raises
:class:`MMCVOpUnavailableError` when *called*, naming the op.

Selection (environment variable ``MMEQUI_MMCV_OPS``):

* ``auto`` (default): use compiled mmcv when ``mmcv._ext`` imports, otherwise
  install the backend. A compiled ``mmcv._ext`` that exists but fails to
  import is reported with its error before the backend is installed.
* ``mmcv``: require compiled mmcv; raise if it is missing or broken.
* ``torchvision``: always install mmequi's backend (must happen before
  anything imports ``mmcv.ops``).
"""
import importlib
import importlib.machinery
import importlib.util
import logging
import os
import sys
import types
from typing import Callable

from mmengine.logging import print_log

# compat -> ops only: mmequi.ops imports nothing from mmequi (nor mmcv)
from ..ops import EXT_FUNCTIONS
from ..ops.errors import HOW_TO_GET_MMCV, MMCVOpUnavailableError

__all__ = [
    'EXT_NAME', 'ENV_VAR', 'HOW_TO_GET_MMCV', 'MMCVOpUnavailableError',
    'backend_active', 'install'
]

EXT_NAME = 'mmcv._ext'
ENV_VAR = 'MMEQUI_MMCV_OPS'
_CHOICES = ('auto', 'mmcv', 'torchvision')


def _unavailable(name: str) -> Callable:

    def _raise(*args, **kwargs):
        raise MMCVOpUnavailableError(
            f"mmcv op kernel '{name}' needs compiled mmcv ({EXT_NAME}), which "
            'is not installed. mmequi\'s torchvision backend implements only: '
            f"{', '.join(sorted(EXT_FUNCTIONS))}. {HOW_TO_GET_MMCV}")

    _raise.__name__ = name
    _raise.__qualname__ = name
    return _raise


class _BackendExt(types.ModuleType):
    """``mmcv._ext`` replacement: known kernels from mmequi.ops, others raise
    on call (so the ``hasattr`` checks in ``load_ext`` pass at import)."""

    __mmequi_backend__ = True

    def __getattr__(self, name: str):
        if name.startswith('__'):
            raise AttributeError(name)
        fn = _unavailable(name)
        setattr(self, name, fn)
        return fn


def _make_backend_module() -> types.ModuleType:
    module = _BackendExt(EXT_NAME, 'mmequi pure PyTorch/torchvision mmcv ops')
    # A spec without loader: ``pkgutil.find_loader('mmcv._ext')`` (mmengine's
    # ``mmcv_full_available``) then truthfully reports no compiled ops.
    module.__spec__ = importlib.machinery.ModuleSpec(EXT_NAME, None)
    for name, fn in EXT_FUNCTIONS.items():
        setattr(module, name, fn)
    return module


def backend_active() -> bool:
    """True when ``mmcv._ext`` is mmequi's backend."""
    return getattr(sys.modules.get(EXT_NAME), '__mmequi_backend__', False)


def _compiled_status():
    """(available, error) for a compiled ``mmcv._ext``."""
    try:
        if importlib.util.find_spec(EXT_NAME) is None:
            return False, None
    except (ImportError, ValueError) as e:
        return False, e
    try:
        importlib.import_module(EXT_NAME)
    except ImportError as e:
        return False, e
    return True, None


def install() -> str:
    """Install the backend if needed; returns a one-line description."""
    if backend_active():
        return 'mmequi torchvision backend (mmcv._ext stand-in)'
    mode = os.environ.get(ENV_VAR, 'auto').strip().lower()
    if mode not in _CHOICES:
        raise ValueError(f'{ENV_VAR}={mode!r} is not one of {_CHOICES}')

    if mode != 'torchvision':
        ok, err = _compiled_status()
        if ok:
            msg = 'compiled mmcv ops (mmcv._ext); mmequi changes nothing'
            print_log(f'mmequi: mmcv op backend = {msg}', logger='current')
            return msg
        if mode == 'mmcv':
            raise ImportError(
                f'{ENV_VAR}=mmcv but compiled mmcv ops ({EXT_NAME}) are not '
                f'usable: {err or "module not found"}. {HOW_TO_GET_MMCV}')
        if err is not None:
            print_log(
                f'mmequi: {EXT_NAME} exists but does not import ({err!r}); '
                'using mmequi\'s torchvision backend instead. Set '
                f'{ENV_VAR}=mmcv to make this an error.',
                logger='current', level=logging.WARNING)
    elif 'mmcv.ops' in sys.modules and not backend_active():
        raise RuntimeError(
            f'{ENV_VAR}=torchvision but mmcv.ops was imported before mmequi; '
            'import mmequi first.')

    sys.modules[EXT_NAME] = _make_backend_module()
    import mmcv
    mmcv._ext = sys.modules[EXT_NAME]
    msg = ('mmequi torchvision backend (mmcv._ext stand-in): '
           f"{', '.join(sorted(EXT_FUNCTIONS))}; other ops raise on call")
    print_log(f'mmequi: mmcv op backend = {msg}', logger='current')
    return msg
