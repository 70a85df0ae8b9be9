"""Optimizer wrappers with the two gradient rules of DINO/iBOT training.

* ``clip_grad=dict(type='per_param', max_norm=3.0)``: every parameter's
  gradient is clipped to norm ``max_norm`` *separately* (the official
  ``utils.clip_gradients``), not the global norm of
  ``torch.nn.utils.clip_grad_norm_``. mmengine's ``dict(max_norm=...)``
  (global norm) and ``dict(type='value', ...)`` still work.
* param groups carrying ``freeze_epochs=k`` (set by
  :class:`SSLOptimWrapperConstructor`) have their gradients dropped
  (``grad = None``, so AdamW neither moves nor decays them) while the
  current epoch < k -- iBOT freezes the head's last layer in epoch 0.

Use :class:`SSLOptimWrapper` (fp32) or :class:`SSLAmpOptimWrapper`
(autocast; ``dtype='bfloat16'``, ``loss_scale=dict(enabled=False)`` is our
default). With AMP the gradients are unscaled before the per-parameter
clip, as upstream's ``AmpOptimWrapper`` does before its own clip.

No device value is read before the optimizer step: the global gradient
norm logged as ``train/grad_norm`` (per-parameter clip only) is read once,
after ``optimizer.step`` has queued its kernels (issue 13).

Finite-loss check (issue 14), switched on by
:class:`~mmequi.engine.hooks.FiniteLossGuardHook` (``enable_finite_check``):
``backward`` folds ``isfinite(loss)`` of every micro-batch into one device
flag; ``step`` reads that flag once, after the gradients exist and *before*
``optimizer.step``, and on a non-finite loss applies no update (no optimizer
step, no loss-scaler step; ``last_step_skipped`` tells the hooks, which stop
the run or skip the EMA teacher update). That read is the step's one host
sync: with the per-parameter clip the gradient norm comes back in the same
transfer, so the guard adds no sync there, only moves the existing one
before the optimizer's kernels are launched (they then no longer overlap the
end of the backward pass on a GPU). Without the hook nothing is checked and
the step is as before. In a distributed run the flag is reduced (minimum)
over the ranks before the read, so that all ranks skip or stop together
(their losses differ; a rank stepping alone would leave the replicas
different).
"""
from typing import Callable, Optional, Tuple, Union

import torch
from mmengine.dist import all_reduce
from mmengine.optim import AmpOptimWrapper, OptimWrapper
from mmengine.registry import OPTIM_WRAPPERS


class _SSLGradRules:
    """Mixin implementing per-parameter clipping and epoch freezing."""

    per_param_max_norm: Optional[float] = None
    #: set by FiniteLossGuardHook; False: no check, no extra host read
    check_finite: bool = False
    #: True when the last ``step`` applied no update (non-finite loss)
    last_step_skipped: bool = False
    _finite_flag: Optional[torch.Tensor] = None

    def enable_finite_check(self) -> None:
        """Check the loss before every optimizer step (see module doc)."""
        self.check_finite = True

    def backward(self, loss: torch.Tensor, **kwargs) -> None:
        """Backward pass; with the finite check, also folds
        ``isfinite(loss)`` into the step's device flag (no host read)."""
        self.last_step_skipped = False
        if self.check_finite:
            ok = torch.isfinite(loss.detach()).all()
            self._finite_flag = ok if self._finite_flag is None \
                else self._finite_flag & ok
        super().backward(loss, **kwargs)

    def _loss_is_finite(self, total: Optional[torch.Tensor]
                        ) -> Tuple[bool, Union[torch.Tensor, float, None]]:
        """Read the finite flag of the losses since the last step (the one
        host read of a checked step; all ranks' minimum when distributed)
        together with the gradient norm ``total`` when there is one;
        returns (finite, total), ``total`` then a float already on the
        host. Unchecked: (True, total) unread."""
        flag, self._finite_flag = self._finite_flag, None
        if not self.check_finite or flag is None:
            return True, total
        flag = flag.float()
        all_reduce(flag, op='min')  # no-op unless distributed
        if total is None:
            finite = bool(flag)
        else:
            finite, norm = torch.stack(
                [flag.to(total.dtype), total.detach()]).tolist()
            finite, total = finite == 1.0, norm
        self.last_step_skipped = not finite
        return finite, total

    def _pop_per_param_clip(self, clip_grad: Optional[dict]):
        if not clip_grad or clip_grad.get('type') != 'per_param':
            return clip_grad
        extra = set(clip_grad) - {'type', 'max_norm'}
        if 'max_norm' not in clip_grad or extra:
            raise ValueError(
                "clip_grad=dict(type='per_param', max_norm=...) takes only "
                f'max_norm; got {clip_grad}')
        self.per_param_max_norm = float(clip_grad['max_norm'])
        return None

    def _frozen_epoch(self) -> int:
        return self.message_hub.get_info('epoch', 0)

    def _drop_frozen_grads(self) -> None:
        epoch = self._frozen_epoch()
        for group in self.optimizer.param_groups:
            if group.get('freeze_epochs', 0) > epoch:
                for p in group['params']:
                    p.grad = None

    def _clip_per_param(self) -> Optional[torch.Tensor]:
        """Clip every gradient to ``per_param_max_norm`` in place; returns
        the global norm of the unclipped gradients (a device scalar, not
        read here: :meth:`_log_grad_norm` reads it after the optimizer's
        kernels are queued, or the finite check reads it with its flag),
        None without gradients."""
        grads = [p.grad for g in self.optimizer.param_groups
                 for p in g['params'] if p.grad is not None]
        if not grads:
            return None
        norms = torch._foreach_norm(grads)
        coefs = [(self.per_param_max_norm / (n + 1e-6)).clamp(max=1.0)
                 for n in norms]
        torch._foreach_mul_(grads, coefs)
        return torch.linalg.vector_norm(torch.stack(norms))

    def _log_grad_norm(self, total: Union[torch.Tensor, float, None]
                       ) -> None:
        """``train/grad_norm`` to the MessageHub: the one host read of an
        unchecked step, called after ``optimizer.step`` so that it no
        longer holds back the launch of the optimizer's kernels (a float
        already read by a checked step)."""
        if total is not None:
            self.message_hub.update_scalar('train/grad_norm', float(total))

    def _grad_rules_then_step(self, step: Callable[..., None],
                              unscale: Optional[Callable[[], None]] = None,
                              **kwargs) -> None:
        """Freeze, clip (``unscale`` first, AMP), check the loss, then
        ``step(**kwargs)`` unless the loss was non-finite."""
        self._drop_frozen_grads()
        total = None
        if self.per_param_max_norm is not None:
            if unscale is not None:
                unscale()
            total = self._clip_per_param()
        finite, total = self._loss_is_finite(total)
        if not finite:
            self._skip_update(unscaled=unscale is not None
                              and self.per_param_max_norm is not None)
            return
        step(**kwargs)
        self._log_grad_norm(total)

    def _skip_update(self, unscaled: bool) -> None:
        """No update this step (non-finite loss); the AMP wrapper resets
        its loss scaler when the gradients were already unscaled."""


@OPTIM_WRAPPERS.register_module()
class SSLOptimWrapper(_SSLGradRules, OptimWrapper):
    """:class:`OptimWrapper` + per-parameter clipping + epoch freezing."""

    def __init__(self, optimizer, accumulative_counts: int = 1,
                 clip_grad: Optional[dict] = None, dtype=None,
                 loss_scale=None) -> None:
        # dtype/loss_scale=None are accepted so that an AMP config switches
        # to fp32 with --cfg-options optim_wrapper.type=SSLOptimWrapper
        # optim_wrapper.dtype=None optim_wrapper.loss_scale=None
        if dtype is not None or loss_scale is not None:
            raise ValueError(
                f'SSLOptimWrapper is full precision; got dtype={dtype!r}, '
                f'loss_scale={loss_scale!r} (use SSLAmpOptimWrapper)')
        clip_grad = self._pop_per_param_clip(
            dict(clip_grad) if clip_grad else None)
        super().__init__(optimizer, accumulative_counts, clip_grad)

    def step(self, **kwargs) -> None:
        self._grad_rules_then_step(super().step, **kwargs)


@OPTIM_WRAPPERS.register_module()
class SSLAmpOptimWrapper(_SSLGradRules, AmpOptimWrapper):
    """:class:`AmpOptimWrapper` + per-parameter clipping + epoch freezing."""

    def __init__(self, loss_scale='dynamic', dtype=None, use_fsdp=False,
                 clip_grad: Optional[dict] = None, **kwargs) -> None:
        clip_grad = self._pop_per_param_clip(
            dict(clip_grad) if clip_grad else None)
        super().__init__(loss_scale=loss_scale, dtype=dtype,
                         use_fsdp=use_fsdp, clip_grad=clip_grad, **kwargs)

    def step(self, **kwargs) -> None:
        # mmengine's own clip (then skipped: clip_grad_kwargs is None)
        # would unscale before clipping; unscale before our clip
        self._grad_rules_then_step(
            super().step,
            unscale=lambda: self.loss_scaler.unscale_(self.optimizer),
            **kwargs)

    def _skip_update(self, unscaled: bool) -> None:
        # GradScaler refuses a second unscale_ before update(); update()
        # also lowers a dynamic scale when the unscaled grads hold inf/NaN
        if unscaled:
            self.loss_scaler.update(self._scale_update_param)
