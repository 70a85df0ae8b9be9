"""Distributed training on CPU-only machines (gloo), unchanged on GPUs.

Four things break a ``torchrun``/SLURM launch without CUDA in mmengine 0.10.7
and torch (read in the pinned sources, reproduced in
``tests/compat/test_distributed.py``):

1. ``mmengine.dist.utils._init_dist_pytorch``/``_init_dist_slurm``/
   ``_init_dist_mpi`` call ``torch.cuda.set_device(local_rank)``.
2. ``Runner.wrap_model`` passes ``device_ids=[LOCAL_RANK]`` to
   ``MMDistributedDataParallel``; DDP rejects ``device_ids`` for CPU modules.
3. ``env_cfg.dist_cfg.backend`` defaults to ``'nccl'`` in every config.
4. ``torch.nn.SyncBatchNorm.forward`` raises ``ValueError`` for CPU tensors
   once a process group exists (mmseg's heads use SyncBN upstream), and
   ``DistributedDataParallel._passing_sync_batchnorm_handle`` refuses to wrap
   a CPU module that contains SyncBN at all.

Fixes, each active only when the relevant tensors/devices are CPU:

1./3. the three ``_init_dist_*`` functions are wrapped: with no accelerator
   ``torch.cuda.set_device`` is skipped and ``nccl`` becomes ``gloo`` (logged).
2. ``MMDistributedDataParallel.__init__`` drops ``device_ids`` when the
   module has no parameter on an accelerator (logged once).
4. ``SyncBatchNorm.forward`` on CPU tensors in training with an initialised
   process group computes the batch statistics with a differentiable
   all-reduce (:class:`_AllReduceSum`), i.e. the
   same maths as torch's CUDA SyncBN: global mean/var over all ranks,
   unbiased running variance, gradients through the reduction; and
   ``MMDistributedDataParallel`` skips DDP's CPU SyncBN refusal (only for
   CPU modules; GPU modules keep torch's check).
"""
import contextlib
import functools
import logging
from typing import Callable, Optional

import torch
import torch.distributed as torch_dist
from mmengine.logging import print_log


def accelerator_available() -> bool:
    """CUDA or another accelerator mmengine knows (npu, mlu, musa)."""
    from mmengine.device import (is_cuda_available, is_mlu_available,
                                 is_musa_available, is_npu_available)
    return (is_cuda_available() or is_npu_available() or is_mlu_available()
            or is_musa_available())


@contextlib.contextmanager
def _skip_cuda_set_device():
    original = torch.cuda.set_device
    torch.cuda.set_device = lambda device: None
    try:
        yield
    finally:
        torch.cuda.set_device = original


def _cpu_safe_init(init_fn: Callable) -> Callable:

    @functools.wraps(init_fn)
    def wrapper(backend, *args, **kwargs):
        if accelerator_available():
            return init_fn(backend, *args, **kwargs)
        if backend == 'nccl':
            print_log(
                'mmequi: no CUDA device, using the gloo backend instead of '
                'nccl for torch.distributed', logger='current',
                level=logging.WARNING)
            backend = 'gloo'
        with _skip_cuda_set_device():
            return init_fn(backend, *args, **kwargs)

    wrapper.__mmequi_patched__ = True
    return wrapper


def _module_on_accelerator(module: torch.nn.Module) -> bool:
    return any(p.device.type != 'cpu' for p in module.parameters())


_warned_ddp = False


def _patch_ddp_init(original_init: Callable) -> Callable:

    @functools.wraps(original_init)
    def __init__(self, module, *args, **kwargs):
        global _warned_ddp
        if (kwargs.get('device_ids') is not None
                and not _module_on_accelerator(module)):
            if not _warned_ddp:
                print_log(
                    'mmequi: model is on CPU; DistributedDataParallel is '
                    'built without device_ids', logger='current')
                _warned_ddp = True
            kwargs['device_ids'] = None
        original_init(self, module, *args, **kwargs)

    __init__.__mmequi_patched__ = True
    return __init__


class _AllReduceSum(torch.autograd.Function):
    """Sum over ranks; the gradient of a sum is the sum of the gradients."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, group) -> torch.Tensor:
        ctx.group = group
        out = x.clone()
        torch_dist.all_reduce(out, group=group)
        return out

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        grad = grad.clone()
        torch_dist.all_reduce(grad, group=ctx.group)
        return grad, None


def sync_batch_norm_cpu(bn: torch.nn.SyncBatchNorm, x: torch.Tensor,
                        process_group: Optional[object] = None
                        ) -> torch.Tensor:
    """Synchronised batch norm for CPU tensors (training mode).

    Statistics are reduced over every rank of ``process_group``:
    ``mean = Σ_r Σ x / N``, ``var = Σ_r Σ x² / N − mean²`` with
    ``N = Σ_r count_r``; the running variance gets the unbiased
    ``var · N / (N − 1)`` as torch's SyncBN does.

    Args:
        bn: the SyncBatchNorm module (weights, buffers, momentum, eps).
        x: input of shape (B, C, *spatial).
    Returns:
        normalised tensor, same shape as ``x``.
    """
    c = x.shape[1]
    dims = [0] + list(range(2, x.dim()))
    count = x.new_tensor([x.numel() / c])  # (1,)
    stats = torch.cat([x.sum(dims), (x * x).sum(dims), count])  # (2C+1,)
    group = process_group or torch_dist.group.WORLD
    stats = _AllReduceSum.apply(stats, group)
    total = stats[-1]
    mean = stats[:c] / total  # (C,)
    var = (stats[c:2 * c] / total - mean * mean).clamp_min(0)  # (C,)

    if bn.track_running_stats:
        with torch.no_grad():
            bn.num_batches_tracked.add_(1)
            if bn.momentum is None:
                factor = 1.0 / float(bn.num_batches_tracked)
            else:
                factor = bn.momentum
            unbiased = var * total / (total - 1).clamp_min(1)
            bn.running_mean.mul_(1 - factor).add_(factor * mean.detach())
            bn.running_var.mul_(1 - factor).add_(factor * unbiased.detach())

    shape = [1, c] + [1] * (x.dim() - 2)
    y = (x - mean.view(shape)) * torch.rsqrt(var.view(shape) + bn.eps)
    if bn.affine:
        y = y * bn.weight.view(shape) + bn.bias.view(shape)
    return y


def _patch_syncbn_forward(original_forward: Callable) -> Callable:

    @functools.wraps(original_forward)
    def forward(self, input: torch.Tensor) -> torch.Tensor:
        if (input.device.type == 'cpu' and self.training
                and torch_dist.is_available() and torch_dist.is_initialized()):
            self._check_input_dim(input)
            return sync_batch_norm_cpu(self, input, self.process_group)
        return original_forward(self, input)

    forward.__mmequi_patched__ = True
    return forward


def _patch_syncbn_handle(original: Callable) -> Callable:

    @functools.wraps(original)
    def _passing_sync_batchnorm_handle(self, module):
        if self.device_type == 'cpu':
            return  # SyncBatchNorm.forward handles CPU tensors (see above)
        return original(self, module)

    _passing_sync_batchnorm_handle.__mmequi_patched__ = True
    return _passing_sync_batchnorm_handle


def install() -> str:
    import mmengine.dist.utils as dist_utils
    from mmengine.model.wrappers import MMDistributedDataParallel

    for name in ('_init_dist_pytorch', '_init_dist_slurm', '_init_dist_mpi'):
        fn = getattr(dist_utils, name)
        if not getattr(fn, '__mmequi_patched__', False):
            setattr(dist_utils, name, _cpu_safe_init(fn))
    if not getattr(MMDistributedDataParallel.__init__, '__mmequi_patched__',
                   False):
        MMDistributedDataParallel.__init__ = _patch_ddp_init(
            MMDistributedDataParallel.__init__)
        MMDistributedDataParallel._passing_sync_batchnorm_handle = \
            _patch_syncbn_handle(torch.nn.parallel.DistributedDataParallel.
                                 _passing_sync_batchnorm_handle)
    sbn = torch.nn.SyncBatchNorm
    if not getattr(sbn.forward, '__mmequi_patched__', False):
        sbn.forward = _patch_syncbn_forward(sbn.forward)
    return ('CPU distributed: gloo instead of nccl, no cuda.set_device, DDP '
            'without device_ids, SyncBN via all_reduce (only without GPU)')
