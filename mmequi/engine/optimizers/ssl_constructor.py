"""Parameter groups of SSL pretraining: weight decay vs none, frozen parts.

DINO/iBOT put every parameter into one of two groups -- decayed, or not
(biases and 1-D parameters such as norm weights) -- instead of mmengine's
default of one group per parameter. Extra name keys can be excluded from
decay (e.g. ``pos_embed``, ``cls_token``, ``mask_token``) and parameters can
be frozen for the first epochs (group key ``freeze_epochs``, honoured by
:class:`SSLOptimWrapper`). Parameters with ``requires_grad=False`` (the EMA
teacher) are left out.

Optionally (DINOv2, Oquab et al., TMLR 2024: ``optim.layerwise_decay 0.9``,
``optim.patch_embed_lr_mult 0.2``; its ``get_params_groups_with_decay``)
each parameter's lr is scaled by

    m = rate ** (L + 1 - i) * (patch_mult if patch embedding else 1),

with ``L`` the backbone's block count and the depth ``i`` of
:func:`~mmequi.engine.optimizers.layer_decay_constructor.layer_depth`:
``i = 0`` for ``cls_token``, ``pos_embed``, ``mask_token``,
``register_tokens`` and the patch embedding, ``i = n + 1`` for block ``n``,
``i = L + 1`` (m = 1) for the final norm and every head. E.g. a 2-layer ViT
with rate 0.9 and patch_mult 0.2: patch embedding 0.9**3 * 0.2 = 0.1458,
[CLS]/pos 0.729, block 0 0.81, block 1 0.9, final norm and heads 1.
"""
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence, Tuple

from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.registry import (OPTIM_WRAPPER_CONSTRUCTORS, OPTIM_WRAPPERS,
                               OPTIMIZERS)

from .layer_decay_constructor import (infer_num_layers, layer_depth,
                                      layer_lr_scale)


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

    * ``layer_decay_rate`` (float in (0, 1], None): layer-wise lr decay
      (module docstring); None (default) = no lr multipliers at all.
    * ``patch_embed_lr_mult`` (float > 0, None): extra lr factor of the
      ``{backbone_prefix}patch_embed.`` parameters (DINOv2: 0.2).
    * ``num_layers`` (int, optional): the backbone depth ``L``, checked
      against the ``{backbone_prefix}layers.N.`` names it is inferred from.
    * ``backbone_prefix`` (str, ``'backbone.'``): the student backbone.

    With either multiplier a group carries ``lr = optimizer lr * m`` and
    ``lr_scale = m``; mmengine's parameter schedulers scale each group from
    its own initial lr (warm-up and cosine keep the ratio; use the cosine's
    ``eta_min_ratio`` rather than ``eta_min`` so the floor keeps it too),
    and the weight-decay scheduler and ``freeze_epochs`` are per group as
    without multipliers. Without them the groups are exactly the two (or
    more, with ``freeze``) of the decay rule, carrying no ``lr``.

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
        self.layer_decay_rate: Optional[float] = paramwise_cfg.pop(
            'layer_decay_rate', None)
        if self.layer_decay_rate is not None and not (
                0 < float(self.layer_decay_rate) <= 1):
            raise ValueError('paramwise_cfg.layer_decay_rate must be in '
                             f'(0, 1], got {self.layer_decay_rate}')
        self.patch_embed_lr_mult: Optional[float] = paramwise_cfg.pop(
            'patch_embed_lr_mult', None)
        if self.patch_embed_lr_mult is not None and not (
                float(self.patch_embed_lr_mult) > 0):
            raise ValueError('paramwise_cfg.patch_embed_lr_mult must be '
                             f'> 0, got {self.patch_embed_lr_mult}')
        self.num_layers: Optional[int] = paramwise_cfg.pop('num_layers', None)
        self.prefix: str = paramwise_cfg.pop('backbone_prefix', 'backbone.')
        if paramwise_cfg:
            raise KeyError(f'SSLOptimWrapperConstructor: unknown '
                           f'paramwise_cfg keys {sorted(paramwise_cfg)}')

    @property
    def scales_lr(self) -> bool:
        """Whether any lr multiplier is configured."""
        return (self.layer_decay_rate is not None
                or self.patch_embed_lr_mult is not None)

    def lr_scales(self, names: List[str]) -> List[Tuple[int, float]]:
        """(depth, lr multiplier m) of every name (module docstring);
        depth -1 marks a patch-embedding parameter."""
        rate = float(self.layer_decay_rate or 1.0)
        mult = float(self.patch_embed_lr_mult or 1.0)
        num_layers = infer_num_layers(names, self.prefix, self.num_layers,
                                      type(self).__name__) \
            if self.layer_decay_rate is not None else 0
        patch = self.prefix + 'patch_embed.'
        if self.patch_embed_lr_mult is not None and not any(
                n.startswith(patch) for n in names):
            raise KeyError(f'paramwise_cfg.patch_embed_lr_mult: no trainable '
                           f'parameter is named "{patch}*"')
        out = []
        for name in names:
            depth = layer_depth(name, num_layers, self.prefix)
            scale = layer_lr_scale(depth, num_layers, rate)
            if name.startswith(patch):
                depth, scale = -1, scale * mult
            out.append((depth, scale))
        return out

    def __call__(self, model):
        if is_model_wrapper(model):
            model = model.module
        base_wd = self.optimizer_cfg.get('weight_decay', 0.0)
        groups: 'OrderedDict[tuple, list]' = OrderedDict()
        used = {k: 0 for k in (*self.no_decay_keys, *self.freeze)}
        named = [(n, p) for n, p in model.named_parameters()
                 if p.requires_grad]
        scales = self.lr_scales([n for n, _ in named]) if self.scales_lr \
            else [None] * len(named)
        for (name, param), scale in zip(named, scales):
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
            groups.setdefault((no_decay, freeze, scale), []).append(param)
        unused = [k for k, n in used.items() if n == 0]
        if unused:
            raise KeyError(f'paramwise_cfg keys {unused} match no trainable '
                           f'parameter of {type(model).__name__}')
        param_groups = []
        for (no_decay, freeze, scale), params in groups.items():
            group = dict(params=params,
                         weight_decay=0.0 if no_decay else base_wd)
            if freeze:
                group['freeze_epochs'] = freeze
            lr_note = ''
            if scale is not None:
                group['lr'] = self.optimizer_cfg['lr'] * scale[1]
                group['lr_scale'] = scale[1]
                lr_note = f', depth={scale[0]}, lr x{scale[1]:.4g}'
            param_groups.append(group)
            print_log(
                f'param group: {len(params)} tensors, '
                f'{sum(p.numel() for p in params)} values, weight_decay='
                f"{group['weight_decay']}, freeze_epochs={freeze}{lr_note}",
                logger='current')
        optimizer = OPTIMIZERS.build(
            dict(self.optimizer_cfg, params=param_groups))
        wrapper_cfg = dict(self.optim_wrapper_cfg)
        wrapper_cfg.setdefault('type', 'OptimWrapper')
        return OPTIM_WRAPPERS.build(wrapper_cfg,
                                    default_args=dict(optimizer=optimizer))
