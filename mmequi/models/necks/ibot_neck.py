"""iBOT / DINO projection head ("neck" in mmpretrain terms).

Zhou et al., ICLR 2022 (iBOT) and Caron et al., ICCV 2021 (DINO): a 3-layer
MLP (in -> hidden -> hidden -> bottleneck, GELU), L2 normalisation, then a
weight-normalised linear layer without bias to K prototypes. iBOT applies it
to the [CLS] token and to patch tokens; with ``shared_head=True`` (the
ViT-S/16 recipe) both use the same MLP *and* last layer, otherwise the patch
tokens get their own last layer (the MLP is always shared, as upstream).
"""
import math
from typing import Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmengine.model.weight_init import trunc_normal_
from mmpretrain.registry import MODELS


class WeightNormLinear(nn.Module):
    """``y = x (g · v / ||v||)^T`` with one gain per output row, no bias.

    Parameters are named ``weight_g`` (out, 1) and ``weight_v`` (out, in) as
    in ``torch.nn.utils.weight_norm`` checkpoints of the official code.
    ``norm_last_layer=True`` fixes ``g = 1`` (not trainable).
    """

    def __init__(self, in_features: int, out_features: int,
                 fix_gain: bool = False) -> None:
        super().__init__()
        self.weight_v = nn.Parameter(torch.empty(out_features, in_features))
        self.weight_g = nn.Parameter(torch.ones(out_features, 1),
                                     requires_grad=not fix_gain)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # nn.Linear's default init for v, then g = 1 (as upstream after
        # weight_norm: ``weight_g.data.fill_(1)``)
        nn.init.kaiming_uniform_(self.weight_v, a=math.sqrt(5))
        with torch.no_grad():
            self.weight_g.fill_(1.0)

    def forward(self, x: torch.Tensor,
                rows: Optional[slice] = None) -> torch.Tensor:
        """x (..., in) -> (..., out), or only the output units ``rows``
        (each row is normalised on its own, so a slice is exact)."""
        v, g = self.weight_v, self.weight_g  # (out, in), (out, 1)
        if rows is not None:
            v, g = v[rows], g[rows]
        return F.linear(x, v * (g / v.norm(dim=1, keepdim=True)))


@MODELS.register_module()
class iBOTNeck(BaseModule):
    """Projection head for [CLS] and patch tokens.

    Args:
        in_channels: backbone width (384 for ViT-S).
        hidden_channels: MLP width (2048).
        bottleneck_channels: width before the last layer (256).
        out_channels: number of [CLS] prototypes K (8192).
        patch_out_channels: number of patch prototypes K2; defaults to
            ``out_channels``; must equal it when ``shared_head``.
        num_layers: MLP layers (3).
        shared_head: one last layer for [CLS] and patches (ViT-S recipe).
        norm_last_layer: fix the weight-norm gain to 1 (ViT-S recipe:
            False).
    """

    def __init__(self, in_channels: int = 384,
                 hidden_channels: int = 2048,
                 bottleneck_channels: int = 256,
                 out_channels: int = 8192,
                 patch_out_channels: Optional[int] = None,
                 num_layers: int = 3,
                 shared_head: bool = True,
                 norm_last_layer: bool = False,
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        if num_layers < 1:
            raise ValueError(f'num_layers={num_layers}: must be >= 1')
        patch_out_channels = patch_out_channels or out_channels
        if shared_head and patch_out_channels != out_channels:
            raise ValueError(
                f'shared_head=True needs patch_out_channels '
                f'({patch_out_channels}) == out_channels ({out_channels})')
        self.out_channels = out_channels
        self.patch_out_channels = patch_out_channels
        dims = [in_channels] + [hidden_channels] * (num_layers - 1) + [
            bottleneck_channels]
        layers = []
        for i in range(num_layers):
            layers.append(nn.Linear(dims[i], dims[i + 1]))
            if i < num_layers - 1:
                layers.append(nn.GELU())
        self.mlp = nn.Sequential(*layers)
        self.last_layer = WeightNormLinear(bottleneck_channels, out_channels,
                                           fix_gain=norm_last_layer)
        self.patch_last_layer = None if shared_head else WeightNormLinear(
            bottleneck_channels, patch_out_channels, fix_gain=norm_last_layer)

    def init_weights(self) -> None:
        super().init_weights()
        for m in self.mlp.modules():
            if isinstance(m, nn.Linear):
                trunc_normal_(m.weight, std=0.02)
                nn.init.zeros_(m.bias)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """Tokens (..., C) -> L2-normalised bottleneck (..., bottleneck)."""
        return F.normalize(self.mlp(x), dim=-1, p=2)

    def embed_all(self, tokens: torch.Tensor
                  ) -> Tuple[torch.Tensor, torch.Tensor]:
        """All tokens (B, 1 + N, C) -> bottlenecks of [CLS] (B, b) and of
        the patches (B, N, b) (one MLP pass)."""
        h = self.embed(tokens)  # (B, 1 + N, b)
        return h[:, 0], h[:, 1:]

    def embed_tokens(self, cls_tokens: torch.Tensor,
                     patch_tokens: torch.Tensor
                     ) -> Tuple[torch.Tensor, torch.Tensor]:
        """[CLS] rows (n1, C) and patch rows (n2, C) -> their bottlenecks
        (n1, b), (n2, b), from one MLP pass over the stacked rows."""
        h = self.embed(torch.cat([cls_tokens, patch_tokens]))
        return h.split([cls_tokens.shape[0], patch_tokens.shape[0]])

    def project_patch(self, h: torch.Tensor,
                      rows: Optional[slice] = None) -> torch.Tensor:
        """Bottleneck (..., bottleneck) -> patch logits (..., K2), or only
        the prototypes ``rows``."""
        return (self.patch_last_layer or self.last_layer)(h, rows)

    def project(self, h_cls: torch.Tensor, h_patch: torch.Tensor,
                cls_rows: Optional[slice] = None,
                patch_rows: Optional[slice] = None
                ) -> Tuple[torch.Tensor, torch.Tensor]:
        """[CLS] bottlenecks (n1, bottleneck) and patch bottlenecks
        (n2, bottleneck) -> their logits (n1, K) and (n2, K2) (or the
        prototypes ``cls_rows`` / ``patch_rows``); equal to
        ``(last_layer(h_cls, cls_rows), project_patch(h_patch, patch_rows))``.

        With a shared last layer and the same rows, both go through one
        product on the stacked rows: the weight is normalised once and gets
        one gradient instead of two to accumulate.
        """
        if self.patch_last_layer is None and cls_rows == patch_rows:
            out = self.last_layer(torch.cat([h_cls, h_patch]), cls_rows)
            return out.split([h_cls.shape[0], h_patch.shape[0]])
        return (self.last_layer(h_cls, cls_rows),
                self.project_patch(h_patch, patch_rows))

    def forward_cls(self, x: torch.Tensor,
                    rows: Optional[slice] = None) -> torch.Tensor:
        """[CLS] tokens (..., C) -> prototype logits (..., K) (or ``rows``
        of them)."""
        return self.last_layer(self.embed(x), rows)

    def forward_patch(self, x: torch.Tensor,
                      rows: Optional[slice] = None) -> torch.Tensor:
        """Patch tokens (..., C) -> prototype logits (..., K2) (or ``rows``
        of them)."""
        return self.project_patch(self.embed(x), rows)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Tokens (B, 1 + N, C) -> logits (B, 1 + N, K): [CLS] through the
        [CLS] path, patches through the patch path."""
        if self.patch_last_layer is None:
            return self.forward_cls(x)
        return torch.cat([self.forward_cls(x[:, :1]),
                          self.forward_patch(x[:, 1:])], dim=1)
