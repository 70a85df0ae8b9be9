"""Data preprocessor building the transformed view and the intermediate
reconstruction targets.

Reference: Wang et al., *Self-Supervised Learning Based on Transformed Image
Reconstruction for Equivariance-Coherent Feature Representation*, AAAI-26
(arXiv:2503.18753). The second global view ``u`` of every image becomes
``v2 = g_theta(u)`` and the network reconstructs the ``K`` intermediate
images ``u_k = g_{k theta / (K + 1)}(u)``, ``k = 1..K``. ``theta`` is drawn
here, uniformly in the transform's ranges with torch's generator on the
device (:meth:`~mmequi.param_transforms.ParamTransform.sample`), and written
into each data sample as ``equi_theta`` (the data pipeline stays that of
the base method). It is applied on the device, batched, to the ``[0, 1]``
pixels, after which the views and the targets are normalised with the same
mean / std (:class:`~mmequi.param_transforms.PixelNormalizer`).
"""
from typing import Any, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmpretrain.models.utils.data_preprocessor import SelfSupDataPreprocessor
from mmpretrain.registry import MODELS

from mmequi.param_transforms import (ParamTransform, PixelNormalizer,
                                     build_param_transform)

from .mask_index import add_mask_token_index

__all__ = ['EquiReconDataPreprocessor']

THETA_KEY = 'equi_theta'


@MODELS.register_module()
class EquiReconDataPreprocessor(SelfSupDataPreprocessor):
    """Apply ``g_theta`` to one view and build the intermediate targets.

    Input (from mmpretrain's ``PackInputs`` + ``default_collate``):
    ``data['inputs']`` is a list of ``V`` views, each a ``(B, 3, H_i, W_i)``
    uint8 tensor (RGB unless ``to_rgb``/``bgr_to_rgb`` asks for a channel
    flip), and ``data['data_samples']`` a list of ``B`` data samples.

    ``forward`` stores iBOT's masked-token index in data samples that carry
    a block ``mask`` (host work, :func:`add_mask_token_index`), casts to
    the device, converts every view to float ``/ 255``
    (``[0, 1]``), draws ``theta`` ``(B, dim)`` and records row ``i`` in
    ``data_samples[i].equi_theta``, replaces
    ``views[view_index]`` (``u``) by ``v2 = g_theta(u)``, computes
    ``targets[k - 1] = g_{k theta / (K + 1)}(u)`` in the same batched call, and
    normalises every view and every target with ``mean`` / ``std`` (given in
    0..255 units, i.e. ``(x01 - mean / 255) / (std / 255)``). It returns::

        {'inputs': {'views': [V tensors (B, 3, H_i, W_i)],
                    'targets': (K, B, 3, H, W)},
         'data_samples': data_samples}

    The same happens with ``training=False``.

    Args:
        transform: config of the parametrised transformation, e.g.
            ``dict(type='rotation', max_angle=45.0)``, or a built
            :class:`ParamTransform`.
        num_intermediate: ``K >= 0``, the number of intermediate targets.
            Defaults to 2. ``K = 0`` builds none (``targets`` is
            ``(0, B, 3, H, W)``): for models that only need ``v2`` and
            ``theta`` (``SIE(condition='theta')``) and for the plain
            baselines (``d_equi = 0`` with ``transform=dict(type=
            'identity')``).
        view_index: index of the view ``u`` that gets ``g_theta``, 0 or 1
            (one of the two global views). Defaults to 1 (the second).
            The models (``iBOTEquiRecon``, ``VICRegEquiRecon``) read
            ``view_index`` and ``num_intermediate`` from here: a config
            sets them only on the preprocessor.
        mean, std: per-channel normalisation in 0..255 units (e.g.
            ``[123.675, 116.28, 103.53]`` / ``[58.395, 57.12, 57.375]``);
            None disables normalisation.
        to_rgb, bgr_to_rgb, rgb_to_bgr: flip the channel order before
            everything else. Defaults to False (the inputs are already RGB).
        pad_size_divisor, pad_value, non_blocking: as in
            :class:`SelfSupDataPreprocessor` (padding is not applied, as
            there).
    """

    def __init__(self,
                 transform: Union[dict, ParamTransform] = dict(
                     type='rotation', max_angle=45.0),
                 num_intermediate: int = 2,
                 view_index: int = 1,
                 mean: Optional[Sequence[Union[float, int]]] = None,
                 std: Optional[Sequence[Union[float, int]]] = None,
                 to_rgb: bool = False,
                 bgr_to_rgb: bool = False,
                 rgb_to_bgr: bool = False,
                 pad_size_divisor: int = 1,
                 pad_value: Union[float, int] = 0,
                 non_blocking: Optional[bool] = False) -> None:
        super().__init__(
            mean=mean,
            std=std,
            pad_size_divisor=pad_size_divisor,
            pad_value=pad_value,
            to_rgb=to_rgb,
            bgr_to_rgb=bgr_to_rgb,
            rgb_to_bgr=rgb_to_bgr,
            non_blocking=non_blocking)
        if isinstance(num_intermediate, bool) or not isinstance(
                num_intermediate, (int, np.integer)) or num_intermediate < 0:
            raise ValueError('num_intermediate must be an int >= 0, got '
                             f'{num_intermediate!r}')
        if isinstance(view_index, bool) or not isinstance(
                view_index, (int, np.integer)):
            raise TypeError(f'view_index must be an int, got {view_index!r}')
        if view_index not in (0, 1):
            raise ValueError(
                f'view_index={view_index}: g_theta goes on one of the two '
                'global views, views[0] or views[1] (the models read '
                'view_index and num_intermediate from here)')
        self.param_transform = build_param_transform(transform)
        self.num_intermediate = int(num_intermediate)
        self.view_index = int(view_index)
        #: the ``[0, 1]`` <-> normalised conversion of every view and target
        self.pixels = PixelNormalizer(mean, std, value_max=1.0,
                                      bgr_to_rgb=self._channel_conversion)

    # ------------------------------------------------------------ helpers
    def make_targets(self, u01: torch.Tensor,
                     theta: Any) -> Tuple[torch.Tensor, torch.Tensor]:
        """``(v2, targets)`` in ``[0, 1]`` for ``[0, 1]`` views ``u01``
        ``(B, 3, H, W)`` and parameters ``theta`` ``(B, dim)`` (tensor or
        array): ``v2 = g_theta(u)`` ``(B, 3, H, W)`` and ``targets``
        ``(K, B, 3, H, W)`` with ``targets[k - 1] = g_{k theta / (K + 1)}(u)``.
        """
        return self.param_transform.intermediate(u01, theta,
                                                 self.num_intermediate)

    def draw_theta(self, data_samples: Optional[list], batch_size: int,
                   device: torch.device) -> torch.Tensor:
        """Draw ``theta`` (B, dim) float32 uniformly in the transform's
        ranges with torch's global generator on ``device`` and store row i
        in ``data_samples[i].equi_theta``."""
        if data_samples is None or len(data_samples) != batch_size:
            got = 'no data samples' if data_samples is None else \
                f'{len(data_samples)} data samples'
            raise ValueError(
                f'{type(self).__name__} needs one data sample per image '
                f'({batch_size}) to record "{THETA_KEY}" in, got {got}')
        theta = self.param_transform.sample(batch_size, device=device)
        for sample, row in zip(data_samples, theta):
            sample.set_field(row, THETA_KEY)
        return theta

    # ------------------------------------------------------------ forward
    def forward(self, data: dict, training: bool = False) -> dict:
        """See the class docstring.

        Args:
            data: ``dict(inputs=[V uint8 (B, 3, H, W)], data_samples=[...])``
                from ``default_collate``.
            training: unused (targets are built in both modes).

        Returns:
            ``dict(inputs=dict(views=[V float (B, 3, H, W)],
            targets=(K, B, 3, H, W)), data_samples=data_samples)``.
        """
        if not isinstance(data, dict):
            raise TypeError('Please use default_collate in the dataloader '
                            f'(a dict), got {type(data)}')
        # host work on the CPU block masks, before the move (iBOT's
        # masked-token index; nothing without masks)
        add_mask_token_index(data.get('data_samples'))
        data = self.cast_data(data)
        inputs = data['inputs']
        data_samples = data.get('data_samples')
        if isinstance(inputs, torch.Tensor):
            inputs = [inputs]
        views: List[torch.Tensor] = list(inputs)
        num_views = len(views)
        if not self.view_index < num_views:
            raise IndexError(f'view_index={self.view_index} but the batch '
                             f'has {num_views} view(s)')
        views = [self.pixels.to_unit(v) for v in views]

        u01 = views[self.view_index]
        theta = self.draw_theta(data_samples, u01.shape[0], u01.device)
        v2, targets = self.make_targets(u01, theta)
        views[self.view_index] = v2

        return {
            'inputs': {
                'views': [self.pixels.normalize(v) for v in views],
                'targets': self.pixels.normalize(targets),
            },
            'data_samples': data_samples
        }
