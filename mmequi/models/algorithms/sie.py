"""SIE: Split Invariant-Equivariant self-supervised learning (Garrido,
Najman and LeCun, ICML 2023, arXiv 2302.10283), re-implemented from the
paper's description (Sec. 4, Fig. 2).

Two renders x1, x2 of one object, related by the group element g (relative
rotation R1⁻¹R2 as a quaternion (x, y, z, w), optionally with the colour
change, from the data samples), or -- ``condition='theta'``, the paper's
Table 1 rows SIE(rot|color|blur|trans|all) of Wang et al., AAAI-26, arXiv
2503.18753 -- two views of one image of which the second is
v2 = g_θ(u), g = θ rescaled to [-1, 1] (the θ that
:class:`EquiReconDataPreprocessor` drew and applied)::

    y_k   = proj(pool(f(x_k)))                  (B, C)  representation
    y_k   = [ y_k[:, :d_inv]  |  y_k[:, d_inv:] ]       invariant | equivariant
    u_k   = h_inv(y_k[:, :d_inv])               (B, D_i) invariant embedding
    e_k   = h_equi(y_k[:, d_inv:])              (B, D_e) equivariant embedding
    ê2    = W_ψ(g) e1                           (B, D_e) hypernetwork predictor
    L     = SIELoss(u1, u2, e1, e2, ê2)

The invariant projector h_inv only ever sees ``y[:, :d_inv]`` and the
equivariant projector h_equi (and the predictor) only ``y[:, d_inv:]``;
probes select the same slices of :meth:`SIE.extract_feat`.

ResNet: pool = global average pooling, no ``proj`` (C = 512). ViT (our
choice for the paper's ViT-S/16 rows): the backbone's [CLS] token
(``out_type='cls_token'``, after the final LayerNorm; ``'avg_featmap'``
gives the mean of the patch tokens instead), no neck, and ``proj`` the
384 -> 2048 -> 512 token projector of VICReg + ours, so y is the 512-d
embedding that [S]/[P] split 256/256.
"""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmpretrain.models.selfsup.base import BaseSelfSupervisor
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from ..data_preprocessors.equi_recon_data_preprocessor import THETA_KEY
from ..utils.equi_recon import equi_recon_preprocessor, views_and_targets

#: Data-sample fields read for each conditioning, with their sizes.
CONDITIONS: Dict[str, Tuple[Tuple[str, int], ...]] = {
    'rot': (('rot_quat', 4), ),
    'rot_color': (('rot_quat', 4), ('color_diff', 2)),
}
#: the conditioning on the θ of EquiReconDataPreprocessor's g_θ
THETA = 'theta'


def _field(ds: DataSample, key: str, size: int, index: int) -> torch.Tensor:
    if key not in ds:
        raise KeyError(
            f'SIE needs the data-sample field {key!r} (sample {index} has '
            f'none): add it to the pipeline\'s packing step, '
            f"dict(type='PackInputs', algorithm_keys=['rot_quat', "
            f"'color_diff']), with a dataset that provides it "
            f"(ThreeDIEBench, mode='pretrain' or 'pair')")
    value = ds.get(key)
    value = torch.as_tensor(np.asarray(value) if not isinstance(
        value, torch.Tensor) else value)
    if value.numel() != size:
        raise ValueError(f'data-sample field {key!r} of sample {index} must '
                         f'have {size} values, got shape '
                         f'{tuple(value.shape)}')
    return value.reshape(size).float()


@MODELS.register_module()
class SIE(BaseSelfSupervisor):
    """SIE on two views (see the module docstring for the equations).

    Args:
        backbone: an mmpretrain backbone config, e.g.
            ``dict(type='ResNet', depth=18)`` (7x7 stride-2 stem + max-pool)
            or ``dict(type='ResNet_CIFAR', depth=18)`` (3x3 stride-1 stem,
            no max-pool) for small images.
        neck: pooling to the (B, C) representation; mmpretrain's
            ``GlobalAveragePooling`` by default; None: the backbone's
            last output as it is (a ViT's [CLS] token, ``out_type=
            'cls_token'``).
        projector: optional :class:`MLPNeck` after the pooling (the ViT
            configs' 384 -> 512 projector); None: y is the pooled output.
        inv_projector: :class:`MLPNeck` config, ``in_channels=d_inv``.
        equi_projector: :class:`MLPNeck` config,
            ``in_channels=C - d_inv``.
        predictor: :class:`HypernetPredictor` config; ``group_dims`` must
            be 4 for ``condition='rot'`` and 6 for ``'rot_color'``; for
            ``'theta'`` it is derived from the data preprocessor's
            transform (its θ dim) where absent, and must equal it where
            given; ``embed_dims`` the equivariant projector's
            ``out_channels``.
        loss: :class:`SIELoss` config.
        d_inv: size of the invariant part ``y[:, :d_inv]`` (256 of 512).
        condition: ``'rot'`` (g = ``rot_quat``, 4 values),
            ``'rot_color'`` (g = [``rot_quat``; ``color_diff``], 6 values),
            both from 3DIEBench's data samples, or ``'theta'``: g = the θ
            (B, dim) that ``EquiReconDataPreprocessor`` drew on the device
            and applied to ``views[view_index]`` (read from the data
            samples' ``equi_theta``), each column mapped affinely from
            its sampling range [low, high] to [-1, 1] (our choice:
            degrees, pixels and colour offsets on one scale). It needs
            that preprocessor with ``num_intermediate=0`` (SIE uses no
            intermediate targets); the predictor maps the other view's
            equivariant embedding to ``views[view_index]``'s.
    """

    def __init__(self, backbone: dict, inv_projector: dict,
                 equi_projector: dict, predictor: dict,
                 neck: Optional[dict] = dict(type='GlobalAveragePooling'),
                 projector: Optional[dict] = None,
                 loss: dict = dict(type='SIELoss'), d_inv: int = 256,
                 condition: str = 'rot',
                 data_preprocessor: Union[dict, None] = None,
                 init_cfg: Union[dict, List[dict], None] = None) -> None:
        super().__init__(backbone=backbone, neck=neck,
                         data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)
        if condition not in CONDITIONS and condition != THETA:
            raise ValueError(f'condition={condition!r}: choose from '
                             f'{sorted(CONDITIONS) + [THETA]}')
        if not isinstance(d_inv, int) or d_inv < 1:
            raise ValueError(f'd_inv must be an int >= 1, got {d_inv!r}')
        self.projector = MODELS.build(projector) if projector else None
        self.inv_projector = MODELS.build(inv_projector)
        self.equi_projector = MODELS.build(equi_projector)
        #: which view is g's image (the other one is mapped onto it)
        self.target_view = 1
        if condition == THETA:
            predictor = self._theta_predictor(predictor)
        self.predictor = MODELS.build(predictor)
        self.sie_loss = MODELS.build(loss)
        self.d_inv, self.condition = d_inv, condition
        first_inv = self.inv_projector.layers[0].in_features
        if first_inv != d_inv:
            raise ValueError(f'inv_projector.in_channels={first_inv} but the '
                             f'invariant part has d_inv={d_inv} dims')
        self.d_equi = self.equi_projector.layers[0].in_features
        if condition == THETA:
            group_dims = self.predictor.group_dims  # checked above
        else:
            group_dims = sum(size for _, size in CONDITIONS[condition])
        if self.predictor.group_dims != group_dims:
            raise ValueError(
                f'predictor.group_dims={self.predictor.group_dims} but '
                f'condition={condition!r} gives g of {group_dims} values '
                f'({" + ".join(k for k, _ in CONDITIONS[condition])})')
        if self.predictor.embed_dims != self.equi_projector.out_channels:
            raise ValueError(
                f'predictor.embed_dims={self.predictor.embed_dims} but '
                f'equi_projector.out_channels='
                f'{self.equi_projector.out_channels}')

    def _theta_predictor(self, predictor: dict) -> dict:
        """The predictor config with ``group_dims`` = the preprocessor's θ
        dim; register the [low, high] -> [-1, 1] map of θ (buffers, not
        saved) and take ``target_view`` from its ``view_index``."""
        owner = f"{type(self).__name__}(condition='{THETA}')"
        pre = equi_recon_preprocessor(self.data_preprocessor, owner)
        if pre.num_intermediate != 0:
            raise ValueError(
                f'{owner} uses no intermediate targets, but the data '
                f'preprocessor builds num_intermediate='
                f'{pre.num_intermediate}; set model.data_preprocessor.'
                'num_intermediate=0')
        t = pre.param_transform
        if t.dim < 1:
            raise ValueError(f'{owner} needs a transform with parameters; '
                             f'{t!r} has none')
        predictor = dict(predictor)
        if predictor.setdefault('group_dims', t.dim) != t.dim:
            raise ValueError(
                f"predictor.group_dims={predictor['group_dims']} but the "
                f'data preprocessor\'s transform {t!r} has theta of '
                f'{t.dim} values (leave group_dims out: it is derived)')
        low = torch.as_tensor(t.low, dtype=torch.float32)
        high = torch.as_tensor(t.high, dtype=torch.float32)
        half = (high - low) / 2
        self.register_buffer('theta_mid', (high + low) / 2, persistent=False)
        # a fixed parameter (low == high) maps to 0
        half = torch.where(half > 0, half, torch.ones_like(half))
        self.register_buffer('theta_half', half, persistent=False)
        self.target_view = pre.view_index
        return predictor

    @property
    def repr_dims(self) -> int:
        """C = d_inv + d_equi, the size of :meth:`extract_feat`'s output."""
        return self.d_inv + self.d_equi

    def split(self, y: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """(B, C) -> invariant ``y[:, :d_inv]``, equivariant
        ``y[:, d_inv:]``."""
        if y.dim() != 2 or y.shape[1] != self.repr_dims:
            raise ValueError(
                f'the pooled representation is {tuple(y.shape)}, expected '
                f'(B, d_inv + equi_projector.in_channels = {self.d_inv} + '
                f'{self.d_equi} = {self.repr_dims})')
        return y[:, :self.d_inv], y[:, self.d_inv:]

    def extract_feat(self, inputs: Union[torch.Tensor, Sequence[torch.Tensor]]
                     ) -> Union[torch.Tensor, List[torch.Tensor]]:
        """Images (B, 3, H, W) -> the pooled (and projected)
        representation y (B, C) (C = 512 for ResNet-18 and for the ViT
        configs' projector): ``y[:, :d_inv]`` is the invariant part,
        ``y[:, d_inv:]`` the equivariant part. A list of views gives a
        list of representations."""
        if isinstance(inputs, (list, tuple)):
            return [self.extract_feat(x) for x in inputs]
        feats = self.backbone(inputs)
        y = (self.neck(feats) if self.with_neck else feats)[-1]  # (B, C')
        if self.projector is not None:
            y = self.projector(y)  # (B, C)
        self.split(y)  # checks C
        return y

    def group_element(self, data_samples: List[DataSample],
                      device: torch.device) -> torch.Tensor:
        """g (B, 4) or (B, 6) from the data samples' ``rot_quat`` (and
        ``color_diff``); for ``condition='theta'`` g (B, dim) = θ rescaled
        to [-1, 1] (:meth:`theta_element`)."""
        if self.condition == THETA:
            return self.theta_element(data_samples, device)
        keys = CONDITIONS[self.condition]
        g = [
            torch.cat([_field(ds, key, size, i) for key, size in keys])
            for i, ds in enumerate(data_samples)
        ]
        return torch.stack(g).to(device)

    def theta_element(self, data_samples: List[DataSample],
                      device: torch.device) -> torch.Tensor:
        """g = (θ - mid) / half (B, dim) from the data samples'
        ``equi_theta`` rows, which the preprocessor wrote as views of one
        (B, dim) tensor on the device: one stack (a device copy, no host
        sync, no host round trip)."""
        missing = [i for i, ds in enumerate(data_samples)
                   if THETA_KEY not in ds]
        if missing:
            raise KeyError(
                f"SIE(condition='{THETA}') needs the data-sample field "
                f'{THETA_KEY!r} (samples {missing[:5]} have none): use '
                "data_preprocessor=dict(type='EquiReconDataPreprocessor', "
                '..., num_intermediate=0)')
        theta = torch.stack([ds.get(THETA_KEY) for ds in data_samples])
        if theta.shape[1:] != self.theta_mid.shape:
            raise ValueError(f'{THETA_KEY} rows have shape '
                             f'{tuple(theta.shape[1:])}, the transform has '
                             f'{self.theta_mid.shape[0]} parameters')
        theta = theta.to(device=device, dtype=torch.float32)
        return (theta - self.theta_mid) / self.theta_half

    def loss(self, inputs: List[torch.Tensor],
             data_samples: List[DataSample],
             **kwargs) -> Dict[str, torch.Tensor]:
        """inputs: the two views, each (B, 3, H, W) (or
        ``EquiReconDataPreprocessor``'s ``dict(views=..., targets=...)``
        with no targets); data_samples: B samples with ``rot_quat`` (and
        ``color_diff``) or ``equi_theta`` -> the loss dict of
        :class:`SIELoss` (``loss_inv``, ``loss_equi``, ``loss_var``,
        ``loss_cov``)."""
        if isinstance(inputs, dict):  # EquiReconDataPreprocessor's output
            inputs, _ = views_and_targets(inputs, 0, type(self).__name__)
        if not isinstance(inputs, (list, tuple)) or len(inputs) != 2:
            n = len(inputs) if isinstance(inputs, (list, tuple)) else 1
            raise ValueError(f'SIE needs 2 views (a list of two (B, 3, H, '
                             f'W) tensors), got {n}')
        if len(data_samples) != inputs[0].shape[0]:
            raise ValueError(f'{len(data_samples)} data samples for a batch '
                             f'of {inputs[0].shape[0]}')
        g = self.group_element(data_samples, inputs[0].device)  # (B, k)
        # each view through the backbone and projectors separately (batch
        # statistics per view, as VICReg)
        inv, equi = [], []
        for view in inputs:
            y_inv, y_equi = self.split(self.extract_feat(view))
            inv.append(self.inv_projector(y_inv))  # (B, D_i)
            equi.append(self.equi_projector(y_equi))  # (B, D_e)
        dst = self.target_view  # g's image; predicted from the other view
        src = 1 - dst
        pred = self.predictor(equi[src], g)  # (B, D_e) ≈ equi[dst]
        return self.sie_loss(inv[src], inv[dst], equi[src], equi[dst], pred)
