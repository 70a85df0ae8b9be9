"""``AmpOptimWrapper`` (and so ``tools/train.py --amp``) on CPU.

Why: mmengine 0.10.7's ``AmpOptimWrapper.__init__`` asserts a GPU/NPU/MLU/
MUSA device (``amp_optimizer_wrapper.py``), so an AMP config cannot even be
smoke-tested on a CPU machine, although torch's CPU autocast supports
bfloat16 and mmengine's own ``autocast`` helper handles ``device_type='cpu'``
(bf16 only).

What: with no accelerator the wrapper is built with ``cast_dtype=bfloat16``
and a disabled ``GradScaler`` (bf16 has fp32's exponent range, so loss
scaling is unnecessary). A config asking for ``float16`` gets bfloat16 with a
warning that says so; ``float32``/``float64`` are refused with a clear error
(mmengine's CPU autocast accepts bf16 only). The precision in
use is logged when the wrapper is built, with a warning on CPUs without
native bfloat16 (no AVX512-BF16/AMX), where bf16 autocast is emulated and
~20x slower than fp32. With an accelerator the original
``__init__`` runs unchanged (only the log line is added).
"""
import functools
import logging
from typing import Callable, Optional, Union

import torch
from mmengine.logging import print_log


def _dtype(dtype: Optional[Union[str, torch.dtype]], valid) -> Optional[
        torch.dtype]:
    if isinstance(dtype, str):
        if dtype not in valid:
            raise ValueError(
                f'AmpOptimWrapper dtype={dtype!r} is not one of {valid}')
        dtype = getattr(torch, dtype)
    if dtype is not None and not isinstance(dtype, torch.dtype):
        raise TypeError(f'AmpOptimWrapper dtype must be None, a str or a '
                        f'torch.dtype, got {dtype!r}')
    return dtype


def cpu_has_native_bf16() -> bool:
    """Whether oneDNN runs bfloat16 natively on this CPU (AVX512-BF16 or
    AMX); without it CPU bf16 autocast is emulated and slow."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):  # op missing in this build
        return False


def _patch_init(original_init: Callable) -> Callable:

    @functools.wraps(original_init)
    def __init__(self, loss_scale='dynamic', dtype=None, use_fsdp=False,
                 **kwargs):
        from mmengine.optim import OptimWrapper

        from .distributed import accelerator_available
        if accelerator_available():
            original_init(self, loss_scale=loss_scale, dtype=dtype,
                          use_fsdp=use_fsdp, **kwargs)
            used = self.cast_dtype or torch.get_autocast_dtype('cuda')
            print_log(f'mmequi: precision = {used} autocast on the '
                      f'accelerator, loss scale {loss_scale!r}',
                      logger='current')
            return
        requested = _dtype(dtype, self.valid_dtypes)
        OptimWrapper.__init__(self, **kwargs)
        self._scale_update_param = None
        self.loss_scaler = torch.amp.GradScaler('cpu', enabled=False)
        if requested in (torch.float32, torch.float64):
            raise ValueError(
                f'AmpOptimWrapper(dtype={dtype!r}) on CPU: mmengine\'s CPU '
                'autocast supports only bfloat16; use OptimWrapper for full '
                'precision')
        self.cast_dtype = torch.bfloat16
        if requested == torch.float16:
            print_log(
                'mmequi: AmpOptimWrapper asked for float16 but CPU autocast '
                'supports only bfloat16; training in bfloat16',
                logger='current', level=logging.WARNING)
        print_log(f'mmequi: precision = {self.cast_dtype} autocast on CPU, '
                  'no loss scaling', logger='current')
        if not cpu_has_native_bf16():
            print_log(
                'mmequi: this CPU has no native bfloat16 (no AVX512-BF16 / '
                f'AMX; torch reports {torch.backends.cpu.get_cpu_capability()}'
                '): bf16 autocast is emulated and much slower than fp32 '
                '(measured: an iBOT ViT-S step 65 s vs 3.4 s). For CPU runs '
                'drop --amp or set optim_wrapper.type=OptimWrapper / '
                'SSLOptimWrapper with optim_wrapper.dtype=None '
                'optim_wrapper.loss_scale=None', logger='current',
                level=logging.WARNING)

    __init__.__mmequi_patched__ = True
    return __init__


def install() -> str:
    from mmengine.optim import AmpOptimWrapper
    if not getattr(AmpOptimWrapper.__init__, '__mmequi_patched__', False):
        AmpOptimWrapper.__init__ = _patch_init(AmpOptimWrapper.__init__)
    return 'AmpOptimWrapper on CPU uses bfloat16 autocast (no loss scaling)'
