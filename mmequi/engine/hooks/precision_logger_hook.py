"""Log the numeric precision training actually runs in."""
from mmengine.hooks import Hook
from mmengine.optim import AmpOptimWrapper, OptimWrapperDict
from mmengine.registry import HOOKS


def describe_precision(optim_wrapper) -> str:
    """``'fp32'`` or ``'<dtype> autocast (AmpOptimWrapper)'`` per wrapper."""
    wrappers = (dict(optim_wrapper.items()) if isinstance(
        optim_wrapper, OptimWrapperDict) else {'': optim_wrapper})
    parts = []
    for name, wrapper in wrappers.items():
        if isinstance(wrapper, AmpOptimWrapper):
            dtype = wrapper.cast_dtype or 'float16 (device default)'
            text = f'{dtype} autocast ({type(wrapper).__name__})'
        else:
            text = f'fp32 ({type(wrapper).__name__})'
        parts.append(f'{name}: {text}' if name else text)
    return '; '.join(parts)


@HOOKS.register_module()
class PrecisionLoggerHook(Hook):
    """Writes the training precision to the log once, before training."""

    priority = 'VERY_LOW'

    def before_train(self, runner) -> None:
        runner.logger.info(
            f'Training precision: {describe_precision(runner.optim_wrapper)}')
