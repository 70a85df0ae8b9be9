"""Cosine weight-decay schedule that leaves no-decay groups at zero.

mmengine's ``CosineAnnealingParamScheduler(param_name='weight_decay',
eta_min=0.4)`` updates every param group recursively towards ``eta_min``,
so groups that must not decay (biases, norms, tokens) climb to 0.4 as well.
DINO/iBOT schedule weight decay 0.04 -> 0.4 (cosine, per iteration) on the
decayed group only. Closed form, per group g with initial value w_g:

    w_g(t) = 0                                             if w_g = 0
    w_g(t) = η + (w_g − η) · (1 + cos(π t / T)) / 2        otherwise
"""
import math

from mmengine.optim.scheduler import CosineAnnealingParamScheduler
from mmengine.registry import PARAM_SCHEDULERS

INF = int(1e9)


@PARAM_SCHEDULERS.register_module()
class CosineAnnealingWeightDecay(CosineAnnealingParamScheduler):
    """See module docstring. ``eta_min`` (or ``eta_min_ratio`` of each
    group's initial value) is the final weight decay; with ``by_epoch=True``
    and ``convert_to_iter_based=True`` it changes every iteration."""

    def __init__(self, optimizer, eta_min=None, begin: int = 0,
                 end: int = INF, T_max=None, last_step: int = -1,
                 by_epoch: bool = True, verbose: bool = False,
                 eta_min_ratio=None) -> None:
        super().__init__(optimizer, 'weight_decay', T_max=T_max,
                         eta_min=eta_min, begin=begin, end=end,
                         last_step=last_step, by_epoch=by_epoch,
                         verbose=verbose, eta_min_ratio=eta_min_ratio)

    def _get_value(self) -> list:
        t = self.last_step
        cos = (1 + math.cos(math.pi * t / self.T_max)) / 2
        values = []
        for group in self.optimizer.param_groups:
            base = group['initial_weight_decay']
            if base == 0:
                values.append(0.0)
                continue
            eta = (base * self.eta_min_ratio
                   if self.eta_min_ratio is not None else self.eta_min)
            values.append(eta + (base - eta) * cos)
        return values
