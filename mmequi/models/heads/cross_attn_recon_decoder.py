"""Cross-attention reconstruction decoder.

A variant of :class:`ReconDecoder` that borrows the cross-attention block of
Wang, Krajsek and Scharr's earlier model [X] (arXiv 2412.03314), in which a
cross-attention over the two views' equivariant features feeds a decoder.
The block itself, its widths and the decoder after it are ours ([X] does not
publish them). It serves two models:

* :class:`~mmequi.models.CrossAttnRecon`, our implementation of [X]: one
  decoder reconstructs one *view* (queries from the other view's tokens,
  keys/values from the reconstructed view's);
* ``EquiReconHead(decoder=dict(type='CrossAttnReconDecoder'))``, e.g.
  ``configs/equi_recon/ibot-equi-cross-attn_*``: our intermediate-target
  method (AAAI-26, arXiv 2503.18753) with this block in each of the K
  decoders of the *intermediate* images instead of the per-token
  concatenation -- not a model of [X].

Instead of concatenating the equivariant features of the two views per
token, the tokens of the first input attend to those of the second in one
pre-norm cross-attention block, and the result is decoded to an image by the
same linear + convolution decoder (a :class:`ReconDecoder` with
``in_channels = embed_dims``)::

    q  = W1 z1 + P(h, w)                 (B, N, E)   queries from z1
    m  = W2 z2 + P(h, w)                 (B, N, E)   keys/values from z2
    x  = q + Wo MHA(LN_q(q), LN_kv(m))   (B, N, E)
    x  = x + MLP(LN(x))                  (B, N, E)
    û  = ReconDecoder(LN_out(x), hw)     (B, 3, h*p, w*p)

P is a fixed 2-D sin-cos position embedding computed for the given (h, w),
so any token grid works (``use_pos_embed=False`` drops it; the block is then
invariant to permutations of the z2 tokens).

Cost of the default (d = 2048 per view, E = 256, 8 heads, mlp_ratio 2,
decoder channels (16, 32, 32, 16)) at 224 px (N = 196), 2 FLOPs per MAC,
biases / norms / softmax ignored::

    input projections   2 * (2 * 196 * 2048 * 256)       = 411.04 M
    q, k, v, o          4 * (2 * 196 * 256 * 256)        = 102.76 M
    attention           2 * (2 * 196 * 196 * 256)        =  39.34 M
    MLP 256-512-256     2 * (2 * 196 * 256 * 512)        = 102.76 M
    ReconDecoder(256)   25.69 M (linear) + 245.66 M      = 271.35 M
    total forward                                        ≈ 0.927 GFLOP

(budget: <= 1.2 GFLOP forward per image). Parameters: 1,661,955.
"""
import math
from typing import Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmpretrain.registry import MODELS

from .recon_decoder import ReconDecoder, check_tokens


def sincos_pos_embed_2d(h: int, w: int, dims: int,
                        device: Optional[torch.device] = None,
                        dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Fixed 2-D sin-cos position embedding, (h*w, dims), row-major.

    The first half of the channels encodes the row, the second half the
    column, each as ``[sin(pos * ω_k), cos(pos * ω_k)]`` with
    ``ω_k = 10000^(-k / (dims/4))``, k = 0 .. dims/4 - 1.
    """
    if dims % 4:
        raise ValueError(f'sin-cos position embedding needs dims divisible '
                         f'by 4, got {dims}')
    quarter = dims // 4
    omega = torch.exp(
        torch.arange(quarter, device=device, dtype=torch.float32) *
        (-math.log(10000.0) / quarter))  # (dims/4,)
    ys, xs = torch.meshgrid(
        torch.arange(h, device=device, dtype=torch.float32),
        torch.arange(w, device=device, dtype=torch.float32),
        indexing='ij')
    ang_y = ys.reshape(-1, 1) * omega  # (h*w, dims/4)
    ang_x = xs.reshape(-1, 1) * omega  # (h*w, dims/4)
    emb = torch.cat([ang_y.sin(), ang_y.cos(), ang_x.sin(), ang_x.cos()],
                    dim=1)  # (h*w, dims)
    return emb.to(dtype)


@MODELS.register_module()
class CrossAttnReconDecoder(BaseModule):
    """Cross-attention (z1 queries -> z2 keys/values) + :class:`ReconDecoder`
    (see the module docstring: a block borrowed from [X], widths ours).

    Args:
        in_channels: d_equi, width of each view's tokens.
        embed_dims: E, attention width (256).
        num_heads: attention heads (8); ``embed_dims`` must be divisible.
        mlp_ratio: MLP hidden width / E (2.0).
        patch_size, channels, out_channels, num_upsample, upsample_mode:
            passed to the internal :class:`ReconDecoder`.
        use_pos_embed: add the 2-D sin-cos position embedding (True).
        init_cfg: mmengine init config (replaces the default init:
            Xavier-uniform linears, zero biases, unit LayerNorms; the
            internal ReconDecoder keeps its own init).

    Input: ``forward(z1, z2, hw)``, the two views' features separately
    (``input_mode = 'pair'``, read by
    :class:`~mmequi.models.heads.EquiReconHead` and
    :class:`~mmequi.models.CrossAttnRecon`).
    """

    input_mode = 'pair'  # forward(z1, z2, hw): in_channels = d per view

    def __init__(self,
                 in_channels: int,
                 embed_dims: int = 256,
                 num_heads: int = 8,
                 mlp_ratio: float = 2.0,
                 patch_size: int = 16,
                 channels: Sequence[int] = (16, 32, 32, 16),
                 out_channels: int = 3,
                 num_upsample: int = 2,
                 upsample_mode: str = 'nearest',
                 use_pos_embed: bool = True,
                 init_cfg: Optional[Union[dict, list]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if embed_dims % num_heads:
            raise ValueError(f'embed_dims={embed_dims} is not divisible by '
                             f'num_heads={num_heads}')
        if use_pos_embed and embed_dims % 4:
            raise ValueError(f'the sin-cos position embedding needs '
                             f'embed_dims divisible by 4, got {embed_dims}')
        self.in_channels = in_channels
        self.embed_dims = embed_dims
        self.num_heads = num_heads
        self.use_pos_embed = use_pos_embed
        hidden = int(round(embed_dims * mlp_ratio))

        self.proj_q = nn.Linear(in_channels, embed_dims)  # view 1
        self.proj_kv = nn.Linear(in_channels, embed_dims)  # view 2
        self.norm_q = nn.LayerNorm(embed_dims)
        self.norm_kv = nn.LayerNorm(embed_dims)
        self.q = nn.Linear(embed_dims, embed_dims)
        self.kv = nn.Linear(embed_dims, 2 * embed_dims)
        self.out = nn.Linear(embed_dims, embed_dims)
        self.norm_mlp = nn.LayerNorm(embed_dims)
        self.mlp = nn.Sequential(
            nn.Linear(embed_dims, hidden), nn.GELU(),
            nn.Linear(hidden, embed_dims))
        self.norm_out = nn.LayerNorm(embed_dims)
        self.decoder = ReconDecoder(
            embed_dims, patch_size=patch_size, channels=channels,
            out_channels=out_channels, num_upsample=num_upsample,
            upsample_mode=upsample_mode)
        self._default_init()

    def _default_init(self) -> None:
        for name, m in self.named_modules():
            if name.startswith('decoder'):
                continue  # has its own init
            if isinstance(m, nn.Linear):
                # Xavier as in the MAE decoder: with trunc-normal(0.02) the
                # attention branch (the only path from z2) starts ~100x
                # smaller than the query stream
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.LayerNorm):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def init_weights(self) -> None:
        first = not self._is_init
        super().init_weights()  # also runs self.decoder.init_weights()
        if first and not self.init_cfg:
            self._default_init()

    def _heads(self, x: torch.Tensor) -> torch.Tensor:
        B, N, _ = x.shape
        return x.view(B, N, self.num_heads, -1).transpose(1, 2)  # (B,H,N,Dh)

    def forward(self, z1: torch.Tensor, z2: torch.Tensor,
                hw: Tuple[int, int]) -> torch.Tensor:
        """
        Args:
            z1: (B, N, in_channels) view-1 tokens (queries).
            z2: (B, N, in_channels) view-2 tokens (keys / values).
            hw: (h, w) token grid of both views, N = h * w.
        Returns:
            (B, out_channels, h * patch_size, w * patch_size).
        """
        h, w = check_tokens(z1, self.in_channels, hw, name='z1')
        check_tokens(z2, self.in_channels, hw, name='z2')
        if z1.shape[0] != z2.shape[0]:
            raise ValueError(f'z1 and z2 batch sizes differ: {z1.shape[0]} '
                             f'vs {z2.shape[0]}')
        q = self.proj_q(z1)  # (B, N, E)
        m = self.proj_kv(z2)  # (B, N, E)
        if self.use_pos_embed:
            pos = sincos_pos_embed_2d(h, w, self.embed_dims, q.device,
                                      q.dtype)  # (N, E)
            q, m = q + pos, m + pos
        k, v = self.kv(self.norm_kv(m)).chunk(2, dim=-1)  # 2 x (B, N, E)
        attn = F.scaled_dot_product_attention(
            self._heads(self.q(self.norm_q(q))), self._heads(k),
            self._heads(v))  # (B, H, N, Dh)
        attn = attn.transpose(1, 2).reshape(q.shape)  # (B, N, E)
        x = q + self.out(attn)  # (B, N, E)
        x = x + self.mlp(self.norm_mlp(x))  # (B, N, E)
        return self.decoder(self.norm_out(x), (h, w))  # (B, 3, h*p, w*p)
