from .hooks import EpochSeedHook, PrecisionLoggerHook, epoch_worker_init_fn

__all__ = ['EpochSeedHook', 'PrecisionLoggerHook', 'epoch_worker_init_fn']
