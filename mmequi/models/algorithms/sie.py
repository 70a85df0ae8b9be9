"""SIE: Split Invariant-Equivariant self-supervised learning (Garrido,
Najman and LeCun, ICML 2023, arXiv 2302.10283), re-implemented from the
paper's description (Sec. 4, Fig. 2).

Two renders x1, x2 of one object, related by the group element g (relative
rotation R1⁻¹R2 as a quaternion (x, y, z, w), optionally with the colour
change, from the data samples)::

    y_k   = pool(f(x_k))                        (B, C)  representation
    y_k   = [ y_k[:, :d_inv]  |  y_k[:, d_inv:] ]       invariant | equivariant
    u_k   = h_inv(y_k[:, :d_inv])               (B, D_i) invariant embedding
    e_k   = h_equi(y_k[:, d_inv:])              (B, D_e) equivariant embedding
    ê2    = W_ψ(g) e1                           (B, D_e) hypernetwork predictor
    L     = SIELoss(u1, u2, e1, e2, ê2)

The invariant projector h_inv only ever sees ``y[:, :d_inv]`` and the
equivariant projector h_equi (and the predictor) only ``y[:, d_inv:]``;
probes select the same slices of :meth:`SIE.extract_feat`.
"""
from typing import Dict, List, Sequence, Tuple, Union

import numpy as np
import torch
from mmpretrain.models.selfsup.base import BaseSelfSupervisor
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

#: Data-sample fields read for each conditioning, with their sizes.
CONDITIONS: Dict[str, Tuple[Tuple[str, int], ...]] = {
    'rot': (('rot_quat', 4), ),
    'rot_color': (('rot_quat', 4), ('color_diff', 2)),
}


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
            ``GlobalAveragePooling`` by default.
        inv_projector: :class:`MLPNeck` config, ``in_channels=d_inv``.
        equi_projector: :class:`MLPNeck` config,
            ``in_channels=C - d_inv``.
        predictor: :class:`HypernetPredictor` config; ``group_dims`` must
            be 4 for ``condition='rot'`` and 6 for ``'rot_color'``,
            ``embed_dims`` the equivariant projector's ``out_channels``.
        loss: :class:`SIELoss` config.
        d_inv: size of the invariant part ``y[:, :d_inv]`` (256 of 512).
        condition: ``'rot'`` (g = ``rot_quat``, 4 values) or
            ``'rot_color'`` (g = [``rot_quat``; ``color_diff``], 6 values).
    """

    def __init__(self, backbone: dict, inv_projector: dict,
                 equi_projector: dict, predictor: dict,
                 neck: dict = dict(type='GlobalAveragePooling'),
                 loss: dict = dict(type='SIELoss'), d_inv: int = 256,
                 condition: str = 'rot',
                 data_preprocessor: Union[dict, None] = None,
                 init_cfg: Union[dict, List[dict], None] = None) -> None:
        super().__init__(backbone=backbone, neck=neck,
                         data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)
        if condition not in CONDITIONS:
            raise ValueError(f'condition={condition!r}: choose from '
                             f'{sorted(CONDITIONS)}')
        if not isinstance(d_inv, int) or d_inv < 1:
            raise ValueError(f'd_inv must be an int >= 1, got {d_inv!r}')
        self.inv_projector = MODELS.build(inv_projector)
        self.equi_projector = MODELS.build(equi_projector)
        self.predictor = MODELS.build(predictor)
        self.sie_loss = MODELS.build(loss)
        self.d_inv, self.condition = d_inv, condition
        first_inv = self.inv_projector.layers[0].in_features
        if first_inv != d_inv:
            raise ValueError(f'inv_projector.in_channels={first_inv} but the '
                             f'invariant part has d_inv={d_inv} dims')
        self.d_equi = self.equi_projector.layers[0].in_features
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
        """Images (B, 3, H, W) -> the pooled representation y (B, C)
        (C = 512 for ResNet-18): ``y[:, :d_inv]`` is the invariant part,
        ``y[:, d_inv:]`` the equivariant part. A list of views gives a
        list of representations."""
        if isinstance(inputs, (list, tuple)):
            return [self.extract_feat(x) for x in inputs]
        y = self.neck(self.backbone(inputs))[-1]  # (B, C)
        self.split(y)  # checks C
        return y

    def group_element(self, data_samples: List[DataSample],
                      device: torch.device) -> torch.Tensor:
        """g (B, 4) or (B, 6) from the data samples' ``rot_quat`` (and
        ``color_diff``)."""
        keys = CONDITIONS[self.condition]
        g = [
            torch.cat([_field(ds, key, size, i) for key, size in keys])
            for i, ds in enumerate(data_samples)
        ]
        return torch.stack(g).to(device)

    def loss(self, inputs: List[torch.Tensor],
             data_samples: List[DataSample],
             **kwargs) -> Dict[str, torch.Tensor]:
        """inputs: the two views, each (B, 3, H, W); data_samples: B
        samples with ``rot_quat`` (and ``color_diff``) -> the loss dict of
        :class:`SIELoss` (``loss_inv``, ``loss_equi``, ``loss_var``,
        ``loss_cov``)."""
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
        pred = self.predictor(equi[0], g)  # (B, D_e) ≈ equi[1]
        return self.sie_loss(inv[0], inv[1], equi[0], equi[1], pred)
