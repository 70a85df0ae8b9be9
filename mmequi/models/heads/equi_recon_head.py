"""The equivariance-coherent reconstruction head.

Wang, Quercia, Bruns, Morrison, Scharr, Krajsek, "Self-Supervised Learning
Based on Transformed Image Reconstruction for Equivariance-Coherent Feature
Representation", AAAI-26 (arXiv 2503.18753), Sec. 3.

The algorithm (:class:`~mmequi.models.iBOTEquiRecon`,
:class:`~mmequi.models.VICRegEquiRecon`) splits its projection of the two
global views into an invariant part, which its base loss sees, and the
last ``d_equi`` features of every patch token, ``z_equi`` (2, B, N, d_equi)
in view order. This head owns everything downstream of that split: the K
decoders D_k, the reconstruction loss and the optional easy-sample rescue.
With the targets u_k = g_{kθ/(K+1)}(u), k = 1..K, (K, B, 3, H, W) made by
:class:`~mmequi.models.data_preprocessors.EquiReconDataPreprocessor`::

    z1 = z_equi[1 - view_index]   (B, N, d)   the plain view
    z2 = z_equi[view_index]       (B, N, d)   v2 = g_θ(u)
    û_k = D_k([z1 ; z2], hw)      (B, 3, H, W)   'concat' decoders
    û_k = D_k(z1, z2, hw)         (B, 3, H, W)   'pair' decoders
    L_recon = λ · (1/K) Σ_k MSE(û_k, u_k)          (:class:`ReconLoss`)

A decoder class declares which of the two calls it takes with the class
attribute ``input_mode`` (``'concat'``: ``in_channels = 2·d_equi``;
``'pair'``: ``in_channels = d_equi`` per view); ``in_channels`` is derived
from it and ``d_equi``. ``d_equi = 0`` builds no decoders (the method off).

K and ``view_index`` are the data preprocessor's: the algorithms read them
from it and pass them here, so a config sets each once, on the
preprocessor.
"""
import copy
from typing import Callable, Dict, List, Optional, Tuple, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModule
from mmpretrain.registry import MODELS

#: decoder ``input_mode`` -> per-token input width in units of d_equi
DECODER_INPUTS = {'concat': 2, 'pair': 1}


def decoder_input_mode(cfg: dict) -> str:
    """The ``input_mode`` the decoder class of ``cfg`` declares."""
    kind = cfg.get('type')
    cls = kind if isinstance(kind, type) else MODELS.get(kind)
    if cls is None:
        raise KeyError(f'decoder type {kind!r} is not registered in '
                       'mmpretrain.registry.MODELS')
    mode = getattr(cls, 'input_mode', None)
    if mode not in DECODER_INPUTS:
        raise TypeError(
            f'decoder {cls.__name__} declares input_mode={mode!r}; a '
            f'reconstruction decoder must declare one of '
            f'{sorted(DECODER_INPUTS)} (class attribute)')
    return mode


@MODELS.register_module()
class EquiReconHead(BaseModule):
    """K reconstruction decoders, their loss and the easy-sample rescue.

    Args:
        d_equi: width d of the equivariant features (>= 0; 0: no decoders).
        num_intermediate: K, the number of decoders / targets; filled in by
            the algorithm from its data preprocessor. 0 (no targets) only
            with ``d_equi = 0`` (the plain baselines).
        view_index: which global view carries g_θ (0 or 1); filled in by
            the algorithm from its data preprocessor.
        decoder: config of one decoder (e.g. ``ReconDecoder``,
            ``CrossAttnReconDecoder``); K independent copies are built and
            its ``in_channels`` is derived (a given value must agree).
        loss: :class:`ReconLoss` config (its ``loss_weight`` is λ).
        topk: optional :class:`EasySampleRescue` config.
        init_cfg: mmengine init config.
    """

    def __init__(self, d_equi: int, num_intermediate: int, view_index: int,
                 decoder: dict = dict(type='ReconDecoder'),
                 loss: dict = dict(type='ReconLoss', loss_weight=1.0),
                 topk: Optional[dict] = None,
                 init_cfg: Optional[Union[dict, List[dict]]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if isinstance(d_equi, bool) or not isinstance(d_equi, int) or \
                d_equi < 0:
            raise ValueError(f'd_equi must be an int >= 0, got {d_equi!r}')
        if isinstance(num_intermediate, bool) or not isinstance(
                num_intermediate, int) or num_intermediate < 0:
            raise ValueError('num_intermediate must be an int >= 0, got '
                             f'{num_intermediate!r}')
        if num_intermediate == 0 and d_equi:
            raise ValueError(
                f'num_intermediate=0 (no targets) needs d_equi=0 (no '
                f'decoders), got d_equi={d_equi}')
        if view_index not in (0, 1):
            raise ValueError(f'view_index={view_index!r} must be 0 or 1 '
                             '(one of the two global views)')
        self.d_equi = d_equi
        self.num_intermediate = num_intermediate
        self.view_index = view_index
        self.input_mode = decoder_input_mode(decoder)
        if d_equi:
            cfg = copy.deepcopy(decoder)
            expected = DECODER_INPUTS[self.input_mode] * d_equi
            if cfg.setdefault('in_channels', expected) != expected:
                raise ValueError(
                    f"decoder in_channels={cfg['in_channels']} but "
                    f'd_equi={d_equi} gives {expected} for a '
                    f"{self.input_mode!r} decoder ({cfg['type']})")
            self.decoders = nn.ModuleList(
                MODELS.build(copy.deepcopy(cfg))
                for _ in range(num_intermediate))
            self.recon_loss = MODELS.build(loss)
        self.topk = MODELS.build(topk) if topk else None

    def decode(self, z_equi: torch.Tensor,
               hw: Tuple[int, int]) -> List[torch.Tensor]:
        """K reconstructions û_k (B, 3, H, W) from ``z_equi`` (2, B, N, d)
        of the two global views in view order and their token grid
        ``hw`` (N = h·w)."""
        if not self.d_equi:
            raise RuntimeError('d_equi=0: the head has no decoders')
        if z_equi.dim() != 4 or z_equi.shape[0] != 2:
            raise ValueError('z_equi must be (2, B, N, d) (two views), got '
                             f'shape {tuple(z_equi.shape)}')
        if self.view_index == 0:
            z_equi = z_equi.flip(0)  # plain view first
        if self.input_mode == 'pair':
            z1, z2 = z_equi.unbind(0)  # (B, N, d): plain view, g_θ's view
            return [dec(z1, z2, hw) for dec in self.decoders]
        # [z1 ; z2] per token in one copy (B, N, 2·d); its gradient is one
        # copy back, not two zero-filled (2, B, N, d) buffers
        z = z_equi.permute(1, 2, 0, 3).flatten(2)
        return [dec(z, hw) for dec in self.decoders]

    def loss(self, z_equi: torch.Tensor, hw: Tuple[int, int],
             targets: torch.Tensor) -> Dict[str, torch.Tensor]:
        """``{'loss_recon': λ · (1/K) Σ_k MSE(û_k, u_k)}`` for ``z_equi``
        (2, B, N, d) and the targets (K, B, 3, H, W); ``{}`` when
        ``d_equi = 0``."""
        if not self.d_equi:
            return {}
        if targets.shape[0] != self.num_intermediate:
            raise ValueError(f'got {targets.shape[0]} targets, the head has '
                             f'num_intermediate={self.num_intermediate}')
        return {'loss_recon': self.recon_loss(self.decode(z_equi, hw),
                                               targets)}

    def rescue_loss(self, inv: torch.Tensor, views: torch.Tensor,
                    target: torch.Tensor,
                    forward: Callable[[torch.Tensor], torch.Tensor],
                    preprocessor: nn.Module) -> torch.Tensor:
        """Easy-sample rescue (:class:`EasySampleRescue`): the k samples
        whose two views' invariant outputs ``inv`` (2, B, D) agree most get
        strong views of ``views`` (2, B, 3, H, W) (normalised like
        ``preprocessor``'s); the student outputs ``forward(strong)``
        (2k, D') must match ``target`` (2, B, D') of the *other* original
        view (cosine). Returns the weighted scalar loss."""
        if self.topk is None:
            raise RuntimeError('the head has no topk (EasySampleRescue) '
                               'config')
        idx = self.topk.select(inv[0].detach(), inv[1].detach())  # (k,)
        strong = self.topk.augment(views[:, idx].flatten(0, 1),
                                   preprocessor)  # (2k, 3, H, W)
        other = target[:, idx].flip(0).flatten(0, 1)  # (2k, D')
        return self.topk.loss(forward(strong), other)


def find_equi_recon_head(model: nn.Module) -> Optional[EquiReconHead]:
    """``model.head`` when it is an :class:`EquiReconHead` with decoders
    (``d_equi > 0``), else None (``model`` already unwrapped)."""
    head = getattr(model, 'head', None)
    if isinstance(head, EquiReconHead) and head.d_equi:
        return head
    return None
