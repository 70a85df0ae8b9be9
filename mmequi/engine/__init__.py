from .hooks import (DistillationTeacherHook, EpochSeedHook,
                    FiniteLossGuardHook, NonFiniteLossError,
                    PrecisionLoggerHook, epoch_worker_init_fn)
from .optimizers import (SSLAmpOptimWrapper, SSLOptimWrapper,
                         SSLOptimWrapperConstructor)
from .schedulers import CosineAnnealingWeightDecay
from . import runner  # noqa: F401,E402  (KNNTestLoop into mmpretrain LOOPS)

__all__ = [
    'EpochSeedHook', 'PrecisionLoggerHook', 'epoch_worker_init_fn',
    'DistillationTeacherHook', 'SSLOptimWrapper', 'SSLAmpOptimWrapper',
    'SSLOptimWrapperConstructor', 'CosineAnnealingWeightDecay',
    'FiniteLossGuardHook', 'NonFiniteLossError'
]
