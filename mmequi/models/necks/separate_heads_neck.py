"""Separate DINO and iBOT heads: one :class:`iBOTNeck` for [CLS] tokens, a
second one, with its own MLP and last layer, for patch tokens.

Oquab et al., "DINOv2", TMLR 2024, Sec. 5 ("we observed that tying the
weights ... is worse at scale"; ``ibot.separate_head``). :class:`iBOTNeck`
with ``shared_head=False`` separates only the last layer (iBOT's ViT-L
recipe); this module separates the whole head and offers the interface
:class:`~mmequi.models.iBOT` uses (``embed_all``, ``embed_tokens``,
``project``, ``project_patch``, ``forward_cls``, ``forward_patch``), so
iBOT's step runs on it unchanged.
"""
import copy
from typing import Optional, Tuple

import torch
from mmengine.model import BaseModule
from mmpretrain.registry import MODELS


@MODELS.register_module()
class SeparateHeadsNeck(BaseModule):
    """Two :class:`iBOTNeck` heads built from one config.

    Args:
        head: an ``iBOTNeck`` config; the [CLS] head (``cls_head``) gets
            ``out_channels`` prototypes, the patch head (``patch_head``)
            ``patch_out_channels`` (default: ``out_channels``), each with
            its own MLP and a single last layer.

    Checkpoint keys: ``cls_head.*`` and ``patch_head.*`` (each an
    ``iBOTNeck``: ``mlp.*``, ``last_layer.weight_g/v``).
    """

    def __init__(self, head: dict, init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        if not isinstance(head, dict) or head.get('type') != 'iBOTNeck':
            raise ValueError("SeparateHeadsNeck needs head=dict(type="
                             f"'iBOTNeck', ...), got {head!r}")
        cls_cfg, patch_cfg = copy.deepcopy(head), copy.deepcopy(head)
        patch_out = patch_cfg.pop('patch_out_channels', None) or \
            head.get('out_channels', 8192)
        cls_cfg.pop('patch_out_channels', None)
        for cfg in (cls_cfg, patch_cfg):
            cfg['shared_head'] = True  # one last layer per head
        patch_cfg['out_channels'] = patch_out
        self.cls_head = MODELS.build(cls_cfg)
        self.patch_head = MODELS.build(patch_cfg)
        self.out_channels = self.cls_head.out_channels
        self.patch_out_channels = self.patch_head.out_channels

    def embed_all(self, tokens: torch.Tensor
                  ) -> Tuple[torch.Tensor, torch.Tensor]:
        """All tokens (B, 1 + N, C) -> [CLS] bottlenecks (B, b) from the
        [CLS] head and patch bottlenecks (B, N, b) from the patch head."""
        return (self.cls_head.embed(tokens[:, 0]),
                self.patch_head.embed(tokens[:, 1:]))

    def embed_tokens(self, cls_tokens: torch.Tensor,
                     patch_tokens: torch.Tensor
                     ) -> Tuple[torch.Tensor, torch.Tensor]:
        """[CLS] rows (n1, C), patch rows (n2, C) -> (n1, b), (n2, b)."""
        return (self.cls_head.embed(cls_tokens),
                self.patch_head.embed(patch_tokens))

    def project_patch(self, h: torch.Tensor,
                      rows: Optional[slice] = None) -> torch.Tensor:
        """Patch bottlenecks (..., b) -> patch logits (..., K2)."""
        return self.patch_head.last_layer(h, rows)

    def project(self, h_cls: torch.Tensor, h_patch: torch.Tensor,
                cls_rows: Optional[slice] = None,
                patch_rows: Optional[slice] = None
                ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Bottlenecks -> [CLS] logits (n1, K) and patch logits (n2, K2)
        (or the prototypes ``cls_rows`` / ``patch_rows``)."""
        return (self.cls_head.last_layer(h_cls, cls_rows),
                self.project_patch(h_patch, patch_rows))

    def forward_cls(self, x: torch.Tensor,
                    rows: Optional[slice] = None) -> torch.Tensor:
        """[CLS] tokens (..., C) -> logits (..., K)."""
        return self.cls_head.forward_cls(x, rows)

    def forward_patch(self, x: torch.Tensor,
                      rows: Optional[slice] = None) -> torch.Tensor:
        """Patch tokens (..., C) -> logits (..., K2)."""
        return self.patch_head.forward_cls(x, rows)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Tokens (B, 1 + N, C) -> logits (B, 1 + N, K) (needs K == K2)."""
        if self.out_channels != self.patch_out_channels:
            raise ValueError(
                f'SeparateHeadsNeck.forward stacks [CLS] ({self.out_channels}'
                f') and patch ({self.patch_out_channels}) logits: the widths '
                'differ; call forward_cls / forward_patch')
        return torch.cat([self.forward_cls(x[:, :1]),
                          self.forward_patch(x[:, 1:])], dim=1)
