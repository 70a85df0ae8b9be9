"""ViT with a learnable mask token for masked image modelling (iBOT).

Zhou et al., "iBOT: Image BERT Pre-Training with Online Tokenizer",
ICLR 2022. A subclass of mmpretrain's ``VisionTransformer`` (like its
``BEiTPretrainViT``/``MaskFeatViT``), so every checkpoint key of the plain
ViT is unchanged and a pretrained backbone loads into
``mmpretrain.VisionTransformer`` (the extra ``mask_token`` is documented and
dropped by the exporter).
"""
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint
from mmengine.model.weight_init import trunc_normal_
from mmpretrain.models.backbones import VisionTransformer
from mmpretrain.models.utils import resize_pos_embed
from mmpretrain.registry import MODELS

ATTENTION_IMPLS = ('auto', 'sdpa', 'matmul')


def matmul_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                     dropout_p: float = 0.0) -> torch.Tensor:
    """Multi-head attention ``softmax(q k^T / sqrt(d)) v`` as two batched
    matrix products and a softmax (Vaswani et al., 2017).

    The same maths as ``F.scaled_dot_product_attention(q, k, v,
    dropout_p=dropout_p)`` (within rounding; dropout draws differ); on CPU
    in bf16 autocast it is much faster than torch's fused (flash) CPU
    kernel at ViT sizes (see :class:`iBOTViT`, ``attn_impl``).

    Args:
        q: queries (B, H, Nq, d); k, v: keys and values (B, H, N, d).
        dropout_p: dropout on the attention weights.
    Returns:
        (B, H, Nq, d).
    """
    weights = (q * q.shape[-1] ** -0.5) @ k.transpose(-2, -1)  # (B,H,Nq,N)
    weights = weights.softmax(-1)
    if dropout_p > 0:
        weights = F.dropout(weights, dropout_p)
    return weights @ v


class ViTAttention:
    """The attention kernel of every :class:`iBOTViT` layer (set as
    mmpretrain's ``MultiheadAttention.scaled_dot_product_attention``).

    Args:
        impl: ``'sdpa'``: ``F.scaled_dot_product_attention`` (fused kernels);
            ``'matmul'``: :func:`matmul_attention`; ``'auto'``: matmul for
            CPU tensors, sdpa on every other device (CUDA: flash/efficient
            kernels).
    """

    def __init__(self, impl: str = 'auto') -> None:
        if impl not in ATTENTION_IMPLS:
            raise ValueError(f'attn_impl={impl!r}: expected one of '
                             f'{ATTENTION_IMPLS}')
        self.impl = impl

    def uses_matmul(self, device: torch.device) -> bool:
        """Whether inputs on ``device`` go through :func:`matmul_attention`."""
        return self.impl == 'matmul' or (self.impl == 'auto'
                                         and device.type == 'cpu')

    def __call__(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                 dropout_p: float = 0.0) -> torch.Tensor:
        """q (B, H, Nq, d), k, v (B, H, N, d) -> (B, H, Nq, d)."""
        if self.uses_matmul(q.device):
            return matmul_attention(q, k, v, dropout_p)
        return F.scaled_dot_product_attention(q, k, v, dropout_p=dropout_p)

    def __repr__(self) -> str:
        return f'ViTAttention({self.impl!r})'


def set_attention(layers: nn.ModuleList, impl: str) -> None:
    """Make every mmpretrain ``TransformerEncoderLayer`` in ``layers`` use
    ``ViTAttention(impl)``; layers whose attention is not the default
    scaled dot product (a custom ``qk_scale``, ``v_shortcut``) are refused
    (ValueError) rather than silently changed."""
    attention = ViTAttention(impl)
    for i, layer in enumerate(layers):
        attn = layer.attn
        if attn.v_shortcut or attn.scaled_dot_product_attention is not \
                F.scaled_dot_product_attention:
            raise ValueError(
                f'layer {i}: attention with v_shortcut or a custom '
                'qk_scale is not supported (expected the default scaled '
                'dot product with scale head_dims ** -0.5)')
        attn.scaled_dot_product_attention = attention


def cls_only_layer(layer: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """``layer(x)[:, :1]`` of an mmpretrain ``TransformerEncoderLayer``,
    computed for the [CLS] token only.

    Keys and values come from all tokens; the query, the attention output,
    its projection, the residuals and the MLP are computed for the [CLS]
    row alone (every one of them is row-wise), so the result is the full
    layer's [CLS] output within rounding. Drop path draws one number per
    sample either way, so the random stream is the same.

    Args:
        layer: the encoder layer (pre-norm: ``ln1``, ``attn``, ``ln2``,
            ``ffn``; attention without ``v_shortcut``).
        x: tokens (B, 1 + N, C), [CLS] first.
    Returns:
        the [CLS] output (B, 1, C).
    """
    attn = layer.attn
    B, N1, C = x.shape
    H, d = attn.num_heads, attn.head_dims
    qkv = attn.qkv(layer.ln1(x)).view(B, N1, 3, H, d).permute(2, 0, 3, 1, 4)
    y = attn.scaled_dot_product_attention(
        qkv[0][:, :, :1], qkv[1], qkv[2],
        dropout_p=attn.attn_drop if attn.training else 0.)  # (B, H, 1, d)
    y = attn.proj(y.transpose(1, 2).reshape(B, 1, C))
    y = x[:, :1] + attn.out_drop(attn.gamma1(attn.proj_drop(y)))
    return layer.ffn(layer.ln2(y), identity=y)


@MODELS.register_module()
class iBOTViT(VisionTransformer):
    """Vision Transformer whose masked patch embeddings are replaced by a
    learnable ``mask_token`` before the position embedding is added.

    ``forward`` returns all tokens after the final norm:
    (B, 1 + N, C) with the [CLS] token first (``with_cls_token=True``).

    Args:
        arch: as :class:`mmpretrain.models.VisionTransformer`; ViT-S/16 is
            ``'deit-small'`` (384 dims, 12 layers, 6 heads), ViT-L/16
            ``'large'``. (``'small'`` in mmpretrain is NOT ViT-S.)
        init_official (bool): when not loading a pretrained checkpoint,
            initialise as the official iBOT/DINO ViT: truncated normal
            (std 0.02) for Linear weights, ``pos_embed`` and ``cls_token``,
            zero biases, LayerNorm (1, 0); the mask token starts at zero.
        with_cp (bool): activation checkpointing, a speed/memory switch
            (default False): in training with gradients enabled, each
            transformer layer runs under
            ``torch.utils.checkpoint.checkpoint(layer, x,
            use_reentrant=False)``, so its activations are recomputed in
            the backward pass instead of stored (about one extra forward of
            the layers, much less activation memory: what lets ViT-L/16
            fit its batch). Loss and gradients are those of
            ``with_cp=False`` (the RNG state, e.g. of drop path, is
            replayed in the recomputation); the eval-mode teacher and
            ``no_grad`` calls never checkpoint.
        attn_impl (str): the attention kernel, a speed switch
            (:class:`ViTAttention`): ``'auto'`` (default) multiplies
            matrices on CPU (:func:`matmul_attention`: torch's fused CPU
            kernel was ~4x slower on the 37-token local crops in bf16
            autocast, forward + backward, 2 threads) and calls
            ``F.scaled_dot_product_attention`` elsewhere (CUDA: fused
            flash/efficient kernels); ``'sdpa'`` / ``'matmul'`` force one.
            Same maths, equal within rounding; no checkpoint key changes.
        num_register_tokens (int): R learnable register tokens (Darcet et
            al., "Vision Transformers Need Registers", ICLR 2024; DINOv2's
            ``num_register_tokens``), default 0. They are inserted after
            [CLS] once the position embedding has been added (they get
            none), take part in attention in every layer, and are dropped
            from the output: ``forward`` still returns (B, 1 + N, C), so
            masking, ``cls_only`` and every patch-token consumer see the N
            patch tokens only. With 0 there is no ``register_tokens``
            parameter (state dict and outputs unchanged).
        drop_path_uniform (bool): every block drops its residual branches
            with probability ``drop_path_rate`` (DINOv2's
            ``student.drop_path_uniform``) instead of mmpretrain's linear
            ramp ``linspace(0, drop_path_rate, L)`` (default False; no
            parameter changes).
        **kwargs: passed to ``VisionTransformer`` (``out_type`` is forced to
            ``'raw'`` and ``out_indices`` to the last layer).
    """

    def __init__(self, arch='deit-small', init_official: bool = True,
                 with_cp: bool = False, attn_impl: str = 'auto',
                 num_register_tokens: int = 0,
                 drop_path_uniform: bool = False, **kwargs) -> None:
        for key in ('out_type', 'out_indices'):
            if key in kwargs:
                raise ValueError(
                    f'iBOTViT returns all tokens of the last layer; do not '
                    f'set {key}={kwargs[key]!r}')
        if kwargs.get('with_cls_token', True) is False:
            raise ValueError('iBOTViT needs with_cls_token=True')
        if drop_path_uniform:
            layer_cfgs = kwargs.get('layer_cfgs', {})
            if not isinstance(layer_cfgs, dict) or \
                    'drop_path_rate' in layer_cfgs:
                raise ValueError('drop_path_uniform=True sets every layer\'s '
                                 'drop_path_rate; give layer_cfgs as a dict '
                                 f'without it, got {layer_cfgs!r}')
            kwargs['layer_cfgs'] = dict(
                layer_cfgs, drop_path_rate=kwargs.get('drop_path_rate', 0.))
        super().__init__(arch=arch, out_type='raw', out_indices=-1, **kwargs)
        self.init_official = init_official
        self.with_cp = bool(with_cp)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, self.embed_dims))
        if num_register_tokens < 0:
            raise ValueError(f'num_register_tokens={num_register_tokens}: '
                             'must be >= 0')
        self.num_register_tokens = int(num_register_tokens)
        self.register_tokens = nn.Parameter(torch.zeros(
            1, self.num_register_tokens, self.embed_dims)) \
            if self.num_register_tokens else None
        self.attn_impl = attn_impl
        set_attention(self.layers, attn_impl)

    def init_weights(self) -> None:
        super().init_weights()
        if isinstance(self.init_cfg, dict) and \
                self.init_cfg.get('type') == 'Pretrained':
            return
        if self.init_official:
            trunc_normal_(self.pos_embed, std=0.02)
            trunc_normal_(self.cls_token, std=0.02)
            if self.register_tokens is not None:
                trunc_normal_(self.register_tokens, std=0.02)
            for m in self.modules():
                if isinstance(m, nn.Linear):
                    trunc_normal_(m.weight, std=0.02)
                    if m.bias is not None:
                        nn.init.zeros_(m.bias)
                elif isinstance(m, nn.LayerNorm):
                    nn.init.ones_(m.weight)
                    nn.init.zeros_(m.bias)
        nn.init.zeros_(self.mask_token)

    def train(self, mode: bool = True) -> 'iBOTViT':
        super().train(mode)  # mmpretrain's BaseBackbone.train returns None
        return self

    def forward(self, x: torch.Tensor,
                mask: Optional[torch.Tensor] = None,
                cls_only: bool = False) -> torch.Tensor:
        """
        Args:
            x: images (B, 3, H, W); H, W multiples of the patch size (local
                crops use an interpolated position embedding).
            mask: optional bool mask (B, N) or (B, h, w) of the patch grid;
                True = replace that patch embedding by ``mask_token``.
            cls_only: return the [CLS] token only, computing the last
                layer for that token alone (:func:`cls_only_layer`: keys
                and values from all tokens; its query, projection, MLP and
                the final norm on one row). Equal to
                ``forward(x, mask)[:, :1]`` within rounding, cheaper: for
                callers that use only [CLS] (iBOT's local crops).
        Returns:
            tokens (B, 1 + N, C) after the final norm, or (B, 1, C) with
            ``cls_only`` (register tokens, if any, are not returned).
        """
        B = x.shape[0]
        x, patch_resolution = self.patch_embed(x)  # (B, N, C)
        if mask is not None:
            mask = mask.flatten(1)
            if mask.shape != x.shape[:2]:
                raise ValueError(
                    f'mask has {tuple(mask.shape)} entries per batch but the '
                    f'image gives {tuple(x.shape[:2])} patches')
            w = mask.unsqueeze(-1).to(x.dtype)  # (B, N, 1)
            x = x * (1 - w) + self.mask_token.to(x.dtype) * w
        x = torch.cat((self.cls_token.expand(B, -1, -1), x), dim=1)
        x = x + resize_pos_embed(
            self.pos_embed, self.patch_resolution, patch_resolution,
            mode=self.interpolate_mode,
            num_extra_tokens=self.num_extra_tokens)  # (B, 1 + N, C)
        R = self.num_register_tokens
        if R:  # [CLS], R registers (no position embedding), N patches
            x = torch.cat((x[:, :1], self.register_tokens.expand(B, -1, -1)
                           .to(x.dtype), x[:, 1:]), dim=1)
        x = self.drop_after_pos(x)
        x = self.pre_norm(x)
        use_cp = self.with_cp and self.training and torch.is_grad_enabled()
        last = len(self.layers) - 1
        for i, layer in enumerate(self.layers):
            if cls_only and i == last:
                fn, args = cls_only_layer, (layer, x)
            else:
                fn, args = layer, (x,)
            x = checkpoint(fn, *args, use_reentrant=False) if use_cp else \
                fn(*args)
        if cls_only and last < 0:
            x = x[:, :1]  # no layers: the embedded [CLS] token
        elif R and not cls_only:
            x = torch.cat((x[:, :1], x[:, 1 + R:]), dim=1)  # drop registers
        if self.final_norm:
            x = self.ln1(x)
        return x
