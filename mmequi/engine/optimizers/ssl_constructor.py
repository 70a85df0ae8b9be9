"""Parameter groups of SSL pretraining: weight decay vs none, frozen parts.

DINO/iBOT put every parameter into one of two groups -- decayed, or not
(biases and 1-D parameters such as norm weights) -- instead of mmengine's
default of one group per parameter. Extra name keys can be excluded from
decay (e.g. ``pos_embed``, ``cls_token``, ``mask_token``) and parameters can
be frozen for the first epochs (group key ``freeze_epochs``, honoured by
:class:`SSLOptimWrapper`). Parameters with ``requires_grad=False`` (the EMA
teacher) are left out.
"""
from collections import OrderedDict
from typing import Dict, Sequence

from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.registry import (OPTIM_WRAPPER_CONSTRUCTORS, OPTIM_WRAPPERS,
                               OPTIMIZERS)


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class SSLOptimWrapperConstructor:
    """Build the optimizer wrapper with decay / no-decay groups.

    ``paramwise_cfg`` keys:

    * ``no_decay_1d`` (bool, True): biases and parameters with ndim <= 1
      get no weight decay (official DINO/iBOT rule).
    * ``no_decay_keys`` (sequence of str): parameters whose name contains
      one of them get no weight decay.
    * ``freeze`` (dict ``{name substring: epochs}``): those parameters get
      no gradient step while epoch < epochs (iBOT:
      ``{'neck.last_layer': 1, 'neck.patch_last_layer': 1}``).

    Every key must match at least one trainable parameter (typos are
    errors, not silent no-ops).

    Every ``optimizer`` key goes to the optimizer unchanged, so torch's
    speed switches apply: ``fused=True`` (one fused AdamW kernel for all
    parameters; CPU and GPU; the GPU recipe schedules set it) or
    ``foreach=True`` (torch's default on GPU when neither is given); both
    give the single-tensor update within fp32 rounding (tested), and the
    per-parameter clip and the freeze of :class:`SSLOptimWrapper` work
    with either.
    """

    def __init__(self, optim_wrapper_cfg: dict,
                 paramwise_cfg: dict = None) -> None:
        if 'optimizer' not in optim_wrapper_cfg:
            raise KeyError('optim_wrapper needs an optimizer config')
        self.optim_wrapper_cfg = dict(optim_wrapper_cfg)
        self.optimizer_cfg = dict(self.optim_wrapper_cfg.pop('optimizer'))
        paramwise_cfg = dict(paramwise_cfg or {})
        self.no_decay_1d = paramwise_cfg.pop('no_decay_1d', True)
        self.no_decay_keys: Sequence[str] = tuple(
            paramwise_cfg.pop('no_decay_keys', ()))
        self.freeze: Dict[str, int] = dict(paramwise_cfg.pop('freeze', {}))
        if paramwise_cfg:
            raise KeyError(f'SSLOptimWrapperConstructor: unknown '
                           f'paramwise_cfg keys {sorted(paramwise_cfg)}')

    def __call__(self, model):
        if is_model_wrapper(model):
            model = model.module
        base_wd = self.optimizer_cfg.get('weight_decay', 0.0)
        groups: 'OrderedDict[tuple, list]' = OrderedDict()
        used = {k: 0 for k in (*self.no_decay_keys, *self.freeze)}
        for name, param in model.named_parameters():
            if not param.requires_grad:
                continue
            no_decay = self.no_decay_1d and (param.ndim <= 1
                                             or name.endswith('.bias'))
            for key in self.no_decay_keys:
                if key in name:
                    no_decay = True
                    used[key] += 1
            freeze = 0
            for key, epochs in self.freeze.items():
                if key in name:
                    freeze = max(freeze, int(epochs))
                    used[key] += 1
            groups.setdefault((no_decay, freeze), []).append(param)
        unused = [k for k, n in used.items() if n == 0]
        if unused:
            raise KeyError(f'paramwise_cfg keys {unused} match no trainable '
                           f'parameter of {type(model).__name__}')
        param_groups = []
        for (no_decay, freeze), params in groups.items():
            group = dict(params=params,
                         weight_decay=0.0 if no_decay else base_wd)
            if freeze:
                group['freeze_epochs'] = freeze
            param_groups.append(group)
            print_log(
                f'param group: {len(params)} tensors, '
                f'{sum(p.numel() for p in params)} values, weight_decay='
                f"{group['weight_decay']}, freeze_epochs={freeze}",
                logger='current')
        optimizer = OPTIMIZERS.build(
            dict(self.optimizer_cfg, params=param_groups))
        wrapper_cfg = dict(self.optim_wrapper_cfg)
        wrapper_cfg.setdefault('type', 'OptimWrapper')
        return OPTIM_WRAPPERS.build(wrapper_cfg,
                                    default_args=dict(optimizer=optimizer))
