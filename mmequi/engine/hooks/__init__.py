from .collapse_monitor_hook import CollapseError, CollapseMonitorHook
from .compile_model_hook import CompileModelHook, compile_submodules
from .distillation_teacher_hook import (DistillationTeacherHook,
                                        cosine_momentum, warmup_temperature)
from .finite_loss_guard_hook import (FiniteLossGuardHook,
                                     NonFiniteLossError)
from .epoch_seed_hook import EpochSeedHook, epoch_worker_init_fn
from .online_probe_hook import OnlineProbeHook
from .precision_logger_hook import PrecisionLoggerHook
from .recon_visualization_hook import ReconVisualizationHook

__all__ = [
    'EpochSeedHook', 'epoch_worker_init_fn', 'PrecisionLoggerHook',
    'DistillationTeacherHook', 'cosine_momentum', 'warmup_temperature',
    'ReconVisualizationHook', 'OnlineProbeHook', 'CollapseMonitorHook',
    'CollapseError', 'CompileModelHook', 'compile_submodules',
    'FiniteLossGuardHook', 'NonFiniteLossError'
]
