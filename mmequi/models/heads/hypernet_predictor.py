"""Hypernetwork predictor of SIE (Garrido, Najman and LeCun, "Self-supervised
learning of Split Invariant Equivariant representations", ICML 2023, the
predictor of Sec. 4 / Fig. 2 right).

A hypernetwork ψ maps the group element g that relates the two views (for
3DIEBench the relative rotation R1⁻¹R2 as a quaternion, optionally with the
colour change) to the weights of a *linear* map of the equivariant
embedding, which predicts the other view's equivariant embedding::

    [vec(W(g)) ; b(g)] = ψ(g)              ψ: R^k -> R^{d·d (+ d)}
    ẑ'_i = W(g_i) z_i (+ b(g_i))           per sample i of the batch

    g: (B, k)   z: (B, d)   W(g): (B, d, d)   b(g): (B, d)   ẑ': (B, d)

Because the predicted map is linear in z and depends on g only, it cannot
absorb the transformation into a non-linear function of z (the paper's
argument that the predictor cannot collapse the equivariant part to
invariance). ``vec`` is row-major: ``W(g)[r, c] = ψ(g)[r·d + c]``.
"""
from typing import Optional

import torch
from mmengine.model import BaseModule
from mmpretrain.registry import MODELS

from ..necks.mlp_neck import MLPNeck


@MODELS.register_module()
class HypernetPredictor(BaseModule):
    """ẑ' = W(g) z (+ b(g)), W(g) predicted by an MLP hypernetwork.

    The hypernetwork is an :class:`~mmequi.models.necks.MLPNeck`
    ``group_dims -> hidden_channels (x num_layers-1) -> d·d (+ d)``; with
    ``num_layers=1`` it is a single Linear layer (W affine in g). The
    application is a batched matmul (``torch.bmm``), one matrix per sample.

    Args:
        group_dims: k, size of the group element g (4 for a quaternion, 6
            for quaternion + the 2 colour changes).
        embed_dims: d, size of the equivariant embedding.
        hidden_channels: width of the hypernetwork's hidden layers.
        num_layers: Linear layers of the hypernetwork (>= 1).
        bias: also predict a bias b(g) (affine instead of linear map).
        norm_cfg: normalisation between the hypernetwork's layers. None by
            default: a batch norm would make W(g_i) depend on the other
            samples' g.
        act: 'ReLU' or 'GELU' between the hypernetwork's layers.
    """

    def __init__(self, group_dims: int, embed_dims: int,
                 hidden_channels: int = 64, num_layers: int = 2,
                 bias: bool = False, norm_cfg: Optional[dict] = None,
                 act: str = 'ReLU', init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        for name, value in (('group_dims', group_dims),
                            ('embed_dims', embed_dims)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f'{name} must be an int >= 1, got '
                                 f'{value!r}')
        self.group_dims, self.embed_dims = group_dims, embed_dims
        self.bias = bias
        out = embed_dims * embed_dims + (embed_dims if bias else 0)
        self.hypernet = MLPNeck(group_dims, hidden_channels, out,
                                num_layers=num_layers, norm_cfg=norm_cfg,
                                act=act)

    def weights(self, g: torch.Tensor):
        """g: (B, k) -> (W (B, d, d), b (B, d) or None)."""
        if g.dim() != 2 or g.shape[1] != self.group_dims:
            raise ValueError(f'g must be (B, group_dims={self.group_dims}),'
                             f' got {tuple(g.shape)}')
        d = self.embed_dims
        psi = self.hypernet(g)  # (B, d·d (+ d))
        w = psi[:, :d * d].unflatten(1, (d, d))  # (B, d, d), row-major
        b = psi[:, d * d:] if self.bias else None  # (B, d)
        return w, b

    def forward(self, z: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        """z: (B, d) equivariant embedding of view 1, g: (B, k) group
        element (view 1 -> view 2) -> ẑ': (B, d) prediction of view 2's."""
        if z.dim() != 2 or z.shape[1] != self.embed_dims:
            raise ValueError(f'z must be (B, embed_dims={self.embed_dims}),'
                             f' got {tuple(z.shape)}')
        if g.shape[0] != z.shape[0]:
            raise ValueError(f'z and g must have one batch size, got '
                             f'{z.shape[0]} and {g.shape[0]}')
        w, b = self.weights(g.to(z.dtype))
        out = torch.bmm(w, z.unsqueeze(-1)).squeeze(-1)  # (B, d)
        return out if b is None else out + b
