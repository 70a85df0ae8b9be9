"""The error an mmcv kernel without a stand-in raises, and how to get one.

Defined here, with the kernels, so that :mod:`mmequi.ops` depends on
nothing else in mmequi; :mod:`mmequi.compat.mmcv_ops` (which installs the
kernels as ``mmcv._ext``) imports and re-exports both names.
"""

__all__ = ['MMCVOpUnavailableError', 'HOW_TO_GET_MMCV']

HOW_TO_GET_MMCV = (
    'Install a full mmcv 2.1.x built for your torch/CUDA (see README.md, '
    '"Using a compiled mmcv"), e.g. `pip uninstall -y mmcv-lite && '
    'MMCV_WITH_OPS=1 pip install --no-build-isolation mmcv==2.1.0` with '
    'a C++20 flag patch for torch >= 2.10, or a prebuilt wheel matching '
    'your torch from https://download.openmmlab.com/mmcv/dist/.')


class MMCVOpUnavailableError(NotImplementedError):
    """A compiled mmcv kernel was called but only mmequi's backend is
    active."""
