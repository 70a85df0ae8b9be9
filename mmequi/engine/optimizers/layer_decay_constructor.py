"""Layer-wise learning-rate decay for ViT fine-tuning in any toolbox.

Bao et al., "BEiT: BERT Pre-Training of Image Transformers", ICLR 2022
(and MAE / iBOT / ViTDet fine-tuning): parameter group of depth ``i`` gets

    lr_i = lr * rate ** (L + 1 - i),

with ``L`` the number of transformer blocks, ``i = 0`` for the patch
embedding, ``cls_token``, ``pos_embed``, ``mask_token`` and
``register_tokens``, ``i = n + 1`` for block ``n`` and ``i = L + 1``
(scale 1) for the final norm, necks and heads. The same depths serve
DINOv2-style pretraining (:class:`SSLOptimWrapperConstructor`'s
``layer_decay_rate``).

Why our own (and why not named ``LayerDecayOptimWrapperConstructor``:
mmpose registers a class of that name with ``force=True``, which would shadow
ours under ``default_scope='mmpose'``): mmseg's ``LayerDecayOptimizerConstructor`` raises
``NotImplementedError`` unless the backbone class name contains
BEiT/MAE/ConvNeXt, and mmpose's ignores ``custom_keys``; mmpretrain's is
registered in mmpretrain's registry only. This one keys on parameter names of
mmpretrain's ``VisionTransformer`` (``backbone.layers.N.``) and is registered
in mmengine's root registry and in mmpretrain's, mmseg's, mmdet's and
mmpose's, so the same ``optim_wrapper`` works under every ``default_scope``.
"""
import re
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence, Tuple

import torch.nn as nn
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.optim import OptimWrapper
from mmengine.registry import (OPTIM_WRAPPER_CONSTRUCTORS, OPTIM_WRAPPERS,
                               OPTIMIZERS)

#: parameters of the embedding stage (depth 0), relative to the backbone
EMBED_KEYS = ('cls_token', 'pos_embed', 'mask_token', 'dist_token',
              'register_tokens', 'patch_embed.', 'pre_norm.')
#: no weight decay for these (BEiT/MAE/iBOT rule), besides biases and 1-D
DEFAULT_NO_DECAY_KEYS = ('pos_embed', 'cls_token', 'mask_token', 'dist_token')


def layer_depth(name: str, num_layers: int,
                prefix: str = 'backbone.') -> int:
    """Depth of parameter ``name`` in ``0 .. num_layers + 1`` (see module
    docstring). Parameters outside ``prefix`` are heads: ``num_layers + 1``.
    """
    if not name.startswith(prefix):
        return num_layers + 1
    rest = name[len(prefix):]
    if rest.startswith(EMBED_KEYS):
        return 0
    match = re.match(r'layers\.(\d+)\.', rest)
    if match:
        return int(match.group(1)) + 1
    return num_layers + 1


def infer_num_layers(names: Sequence[str], prefix: str = 'backbone.',
                     num_layers: Optional[int] = None,
                     owner: str = 'layer-wise lr decay') -> int:
    """The ViT depth ``L``: 1 + the largest ``N`` of the parameter names
    ``{prefix}layers.N.*`` (mmpretrain ``VisionTransformer`` blocks).

    Raises ValueError when no name matches, or when ``num_layers`` is given
    and differs from the inferred depth (``owner`` names the caller).
    """
    pattern = re.compile(re.escape(prefix) + r'layers\.(\d+)\.')
    ids = {int(m.group(1)) for m in map(pattern.match, names) if m}
    if not ids:
        raise ValueError(
            f'{owner}: no trainable parameter is named "{prefix}layers.<N>.*" '
            f'(mmpretrain VisionTransformer blocks); check backbone_prefix')
    inferred = max(ids) + 1
    if num_layers is not None and num_layers != inferred:
        raise ValueError(
            f'{owner}: paramwise_cfg.num_layers={num_layers} but the '
            f'backbone has {inferred} blocks ({prefix}layers.0..'
            f'{inferred - 1})')
    return inferred


def layer_lr_scale(depth: int, num_layers: int, rate: float) -> float:
    """``rate ** (num_layers + 1 - depth)``: the lr multiplier of depth
    ``depth`` (see :func:`layer_depth`)."""
    return rate**(num_layers + 1 - depth)


class ViTLayerDecayOptimWrapperConstructor:
    """Build an optimizer wrapper with layer-wise lr decay.

    ``paramwise_cfg`` keys:

    * ``layer_decay_rate`` (float in (0, 1], required).
    * ``num_layers`` (int, optional): the backbone depth ``L``; inferred
      from the ``backbone.layers.N.`` names, and an error if given and
      different (a ViT-L config run with a ViT-S backbone is a mistake).
    * ``no_decay_1d`` (bool, True): biases and parameters with ndim <= 1
      (norms) get no weight decay.
    * ``no_decay_keys`` (sequence of str, default pos_embed, cls_token,
      mask_token, dist_token): names containing one of them get none either.
    * ``backbone_prefix`` (str, ``'backbone.'``).

    Groups carry ``lr_scale`` and ``layer_id`` for logging; mmengine's
    parameter schedulers scale every group's lr relative to its initial lr,
    so the ratios survive warmup and decay schedules.
    """

    def __init__(self, optim_wrapper_cfg: dict,
                 paramwise_cfg: Optional[dict] = None) -> None:
        if 'optimizer' not in optim_wrapper_cfg:
            raise KeyError('optim_wrapper needs an optimizer config')
        self.optim_wrapper_cfg = dict(optim_wrapper_cfg)
        self.optimizer_cfg = dict(self.optim_wrapper_cfg.pop('optimizer'))
        cfg = dict(paramwise_cfg or {})
        if 'layer_decay_rate' not in cfg:
            raise KeyError('ViTLayerDecayOptimWrapperConstructor: '
                           'paramwise_cfg needs layer_decay_rate (e.g. 0.65 '
                           'for ViT-S)')
        self.rate = float(cfg.pop('layer_decay_rate'))
        if not 0 < self.rate <= 1:
            raise ValueError(f'layer_decay_rate must be in (0, 1], got '
                             f'{self.rate}')
        self.num_layers: Optional[int] = cfg.pop('num_layers', None)
        self.no_decay_1d = bool(cfg.pop('no_decay_1d', True))
        self.no_decay_keys: Sequence[str] = tuple(
            cfg.pop('no_decay_keys', DEFAULT_NO_DECAY_KEYS))
        self.prefix = cfg.pop('backbone_prefix', 'backbone.')
        if cfg:
            raise KeyError(f'ViTLayerDecayOptimWrapperConstructor: unknown '
                           f'paramwise_cfg keys {sorted(cfg)}')

    def _infer_num_layers(self, names: List[str]) -> int:
        return infer_num_layers(names, self.prefix, self.num_layers,
                                type(self).__name__)

    def param_groups(self, model: nn.Module) -> List[dict]:
        """The optimizer's parameter groups (one per depth x decay)."""
        if is_model_wrapper(model):
            model = model.module
        named = [(n, p) for n, p in model.named_parameters()
                 if p.requires_grad]
        num_layers = self._infer_num_layers([n for n, _ in named])
        base_lr = self.optimizer_cfg['lr']
        base_wd = self.optimizer_cfg.get('weight_decay', 0.0)
        groups: 'OrderedDict[Tuple[int, bool], dict]' = OrderedDict()
        for name, param in sorted(
                named, key=lambda x: layer_depth(x[0], num_layers,
                                                 self.prefix)):
            depth = layer_depth(name, num_layers, self.prefix)
            no_decay = (self.no_decay_1d and
                        (param.ndim <= 1 or name.endswith('.bias'))) or \
                any(k in name for k in self.no_decay_keys)
            key = (depth, no_decay)
            if key not in groups:
                scale = layer_lr_scale(depth, num_layers, self.rate)
                groups[key] = dict(
                    params=[], lr=base_lr * scale, lr_scale=scale,
                    layer_id=depth, weight_decay=0.0 if no_decay else base_wd,
                    param_names=[])
            groups[key]['params'].append(param)
            groups[key]['param_names'].append(name)
        return list(groups.values())

    def __call__(self, model: nn.Module) -> OptimWrapper:
        groups = self.param_groups(model)
        lines = [f'layer {g["layer_id"]:>2}  lr x{g["lr_scale"]:.4f}  '
                 f'wd {g["weight_decay"]:g}  {len(g["params"])} params'
                 for g in groups]
        print_log('layer-wise lr decay (rate %g):\n  %s' %
                  (self.rate, '\n  '.join(lines)), logger='current')
        for g in groups:
            del g['param_names']  # kept out of the optimizer state_dict
        optimizer = OPTIMIZERS.build(dict(self.optimizer_cfg, params=groups))
        return OPTIM_WRAPPERS.build(
            dict(self.optim_wrapper_cfg, optimizer=optimizer))


def _register() -> Dict[str, bool]:
    """Register the constructor in mmengine's and each toolbox's registry
    (toolboxes that are not installed are skipped: they cannot run a config
    anyway)."""
    OPTIM_WRAPPER_CONSTRUCTORS.register_module(
        module=ViTLayerDecayOptimWrapperConstructor)
    done = {'mmengine': True}
    for pkg in ('mmpretrain', 'mmseg', 'mmdet', 'mmpose'):
        try:
            registry = __import__(f'{pkg}.registry', fromlist=['x'])
        except ImportError:
            done[pkg] = False
            continue
        registry.OPTIM_WRAPPER_CONSTRUCTORS.register_module(
            module=ViTLayerDecayOptimWrapperConstructor)
        done[pkg] = True
    return done


REGISTERED = _register()
