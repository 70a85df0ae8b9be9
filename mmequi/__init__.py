"""mmequi: equivariance-coherent self-supervised learning for OpenMMLab.

Importing this package (directly or through a config's
``custom_imports=dict(imports=['mmequi'], allow_failed_imports=False)``)
first applies the compatibility layer in :mod:`mmequi.compat` (mmcv op
backend, safe checkpoints, CPU distributed/AMP fixes) and then registers
mmequi's modules into the host toolboxes' registries.
"""
from .compat import apply_compat
from .version import __version__

apply_compat()

from . import datasets, engine, evaluation, models, utils  # noqa: E402,F401,E501  (registers)

__all__ = ['__version__', 'apply_compat']
