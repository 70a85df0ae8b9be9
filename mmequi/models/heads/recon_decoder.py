"""Light-weight image decoder for transformed-image reconstruction.

Wang et al., "Self-Supervised Learning Based on Transformed Image
Reconstruction for Equivariance-Coherent Feature Representation", AAAI-26
(arXiv 2503.18753): each of the K reconstruction decoders D_k maps the
per-token concatenation [z1_equi ; z2_equi] of the equivariant features of
two views to an image of the size of the view ("one linear layer followed
by four convolutional layers"). Widths and upsampling are not published;
the choices below are ours and are all configurable.

Design (``channels = (c0, c1, c2, c3)``, ``num_upsample = U``, patch p,
s = p / 2^U sub-pixels per token side)::

    tokens (B, N=h*w, C_in)
      -> Linear C_in -> c0*s*s, pixel shuffle    (B, c0, h*s, w*s)
      -> conv3x3 c0->c1, GELU                     (B, c1, h*s, w*s)
      -> conv3x3 c1->c2, GELU                     (B, c2, h*s, w*s)
      -> x2 upsample, conv3x3 c2->c3, GELU        (B, c3, 2h*s, 2w*s)
      -> x2 upsample, conv3x3 c3->out             (B, out, h*p, w*p)

i.e. the last U convolutions are each preceded by a x2 upsampling and the
last one has no activation (the target is a normalised image, unbounded).
Keeping the wide convolutions at low resolution and only a thin one at
full resolution keeps the decoder cheap.

With nearest upsampling, "x2 upsample, conv3x3" is computed without the
upsampled image (:func:`upsample_conv3x3`): each of the four output phases
(row and column parity) is a 3x3 convolution of the low-resolution input
with summed taps, so one convolution with 4x the output channels at the
input resolution and a pixel shuffle give the same result (same
multiply-adds; on CPU ~3x faster for the thin full-resolution layer).

Cost of the default (C_in = 2 * 2048 = 4096, p = 16, U = 2, s = 4,
channels = (16, 32, 32, 16), out = 3) at 224 px (h = w = 14, N = 196),
counting 2 FLOPs per multiply-accumulate, biases and upsampling ignored::

    Linear 4096 -> 256            2 * 196 * 4096 * 256       = 411.04 M
    conv 16 -> 32 @ 56 x 56       2 * 3136 * 16 * 32 * 9     =  28.90 M
    conv 32 -> 32 @ 56 x 56       2 * 3136 * 32 * 32 * 9     =  57.80 M
    conv 32 -> 16 @ 112 x 112     2 * 12544 * 32 * 16 * 9    = 115.61 M
    conv 16 -> 3  @ 224 x 224     2 * 50176 * 16 * 3 * 9     =  43.35 M
    total forward                                            ≈ 0.657 GFLOP

per image and decoder (about 2 GFLOP forward + backward, i.e. ~4 GFLOP for
K = 2 decoders, ~3 % of an iBOT ViT-S/16 step of ~125 GFLOP per image).
Parameters: 1,048,832 (linear) + 4,640 + 9,248 + 4,624 + 435 (convs) =
1,067,779.
"""
from typing import Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmengine.model.weight_init import trunc_normal_
from mmpretrain.registry import MODELS


def check_tokens(tokens: torch.Tensor, in_channels: int,
                 hw: Tuple[int, int], name: str = 'tokens') -> Tuple[int, int]:
    """Validate ``tokens`` (B, N, C) against ``in_channels`` and ``hw``;
    returns ``(h, w)`` as ints."""
    if len(hw) != 2:
        raise ValueError(f'hw must be (h, w), got {hw!r}')
    h, w = int(hw[0]), int(hw[1])
    if h < 1 or w < 1:
        raise ValueError(f'hw must be positive, got {hw!r}')
    if tokens.dim() != 3:
        raise ValueError(f'{name} must be (B, N, C), got shape '
                         f'{tuple(tokens.shape)}')
    if tokens.shape[-1] != in_channels:
        raise ValueError(f'{name} have {tokens.shape[-1]} channels, expected '
                         f'in_channels={in_channels}')
    if tokens.shape[1] != h * w:
        raise ValueError(f'{name} have N={tokens.shape[1]} tokens but '
                         f'hw={(h, w)} needs h*w={h * w}')
    return h, w


def upsample_taps(w: torch.Tensor, dim: int) -> torch.Tensor:
    """The two phases of 3-tap kernels ``w`` (taps along ``dim``) run on a
    x2 nearest-upsampled signal, as 3-tap kernels on the signal itself:
    output 2i reads samples 2i-1, 2i, 2i+1 of the upsampled signal, i.e.
    i-1, i, i, so its taps are (w0, w1 + w2, 0); output 2i+1 reads i, i,
    i+1: (0, w0 + w1, w2). Returns (2, *w.shape), phase first. Sums only
    (no products), so exact and not counted as FLOPs."""
    w0, w1, w2 = w.unbind(dim)
    zero = torch.zeros_like(w0)
    return torch.stack([torch.stack([w0, w1 + w2, zero], dim),
                        torch.stack([zero, w0 + w1, w2], dim)])


def upsample_conv3x3(x: torch.Tensor, conv: nn.Conv2d) -> torch.Tensor:
    """``conv(F.interpolate(x, scale_factor=2, mode='nearest'))`` for a 3x3
    convolution (stride 1, zero padding 1), computed at the resolution of
    ``x``: the phase (a, b) of the output is a 3x3 convolution of ``x``
    with the taps summed by :func:`upsample_taps`; the four phases are one
    convolution with 4x the output channels, interleaved by a pixel
    shuffle. Exact up to float rounding; gradients reach ``conv.weight`` /
    ``conv.bias`` as usual. A channels-last ``x`` gives a channels-last
    output.

    Args:
        x: (B, C_in, H, W).
        conv: ``nn.Conv2d(C_in, C_out, 3, padding=1)``.
    Returns:
        (B, C_out, 2H, 2W).
    """
    if (conv.kernel_size, conv.stride, conv.padding, conv.dilation,
            conv.groups, conv.padding_mode) != ((3, 3), (1, 1), (1, 1),
                                                (1, 1), 1, 'zeros'):
        raise ValueError(
            'upsample_conv3x3 needs a 3x3 convolution with stride 1, zero '
            f'padding 1, no dilation and groups=1, got {conv}')
    rows = upsample_taps(conv.weight, 2)  # (2a, C_out, C_in, 3, 3)
    w = upsample_taps(rows, 4)  # (2b, 2a, C_out, C_in, 3, 3)
    # output channel o*4 + 2a + b: phase (a, b) of channel o (pixel shuffle)
    w = w.permute(2, 1, 0, 3, 4, 5).flatten(0, 2)  # (C_out*4, C_in, 3, 3)
    b = None if conv.bias is None else conv.bias.repeat_interleave(4)
    out = F.pixel_shuffle(F.conv2d(x, w, b, padding=1), 2)
    if not x.is_contiguous() and x.is_contiguous(
            memory_format=torch.channels_last):
        out = out.contiguous(memory_format=torch.channels_last)  # as x
    return out


@MODELS.register_module()
class ReconDecoder(BaseModule):
    """Patch tokens -> image: one linear layer and ``len(channels)`` 3x3
    convolutions (see the module docstring for the design and its cost).

    Input: ``forward(tokens, hw)`` with the per-token concatenation of the
    two views' features (``input_mode = 'concat'``, read by
    :class:`~mmequi.models.heads.EquiReconHead`).

    Args:
        in_channels: token width C_in (2 * d_equi when decoding the
            concatenated features of two views).
        patch_size: p, pixels per token side (16).
        channels: ``(c0, c1, ..., c_{L-1})``: c0 is the per-sub-pixel width
            produced by the linear layer; the L convolutions map
            c0 -> c1 -> ... -> c_{L-1} -> ``out_channels``. Default
            ``(16, 32, 32, 16)`` (four convolutions, as in the paper).
        out_channels: image channels (3).
        num_upsample: U, number of x2 upsamplings, placed
            before each of the last U convolutions; ``patch_size`` must be
            divisible by 2^U and ``U <= len(channels)`` (2).
        upsample_mode: ``'nearest'`` (default) or ``'bilinear'``.
        channels_last: speed switch (default False): run the convolutions
            on ``torch.channels_last`` (NHWC) tensors, the layout cuDNN's
            fast bf16/fp16 convolution kernels use (with False they may
            convert to it and back around every conv). Note that the
            default path mostly gets there by itself: the token transpose +
            reshape has NHWC strides and torch's CPU pixel_shuffle and
            interpolate keep them; the switch guarantees the layout
            whatever the backend's ops return. The output equals the NCHW
            path's within fp32 rounding (tested) and is returned in
            channels-last memory format (same shape and values).
        init_cfg: mmengine init config; when given it replaces the default
            initialisation (trunc-normal(0.02) linear, Kaiming convs, zero
            biases).
    """

    input_mode = 'concat'  # forward([z1 ; z2], hw): in_channels = 2 * d

    def __init__(self,
                 in_channels: int,
                 patch_size: int = 16,
                 channels: Sequence[int] = (16, 32, 32, 16),
                 out_channels: int = 3,
                 num_upsample: int = 2,
                 upsample_mode: str = 'nearest',
                 channels_last: bool = False,
                 init_cfg: Optional[Union[dict, list]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        channels = tuple(int(c) for c in channels)
        if len(channels) < 1 or min(channels) < 1:
            raise ValueError(f'channels must be non-empty and positive, got '
                             f'{channels}')
        if not 0 <= num_upsample <= len(channels):
            raise ValueError(f'num_upsample={num_upsample} must be in '
                             f'[0, len(channels)={len(channels)}]')
        scale = 2**num_upsample
        if patch_size < 1 or patch_size % scale:
            raise ValueError(f'patch_size={patch_size} must be divisible by '
                             f'2**num_upsample={scale}')
        if upsample_mode not in ('nearest', 'bilinear'):
            raise ValueError(f'upsample_mode must be nearest or bilinear, '
                             f'got {upsample_mode!r}')
        self.in_channels = in_channels
        self.patch_size = patch_size
        self.channels = channels
        self.out_channels = out_channels
        self.num_upsample = num_upsample
        self.upsample_mode = upsample_mode
        self.channels_last = bool(channels_last)
        self.sub = patch_size // scale  # s: sub-pixels per token side

        self.linear = nn.Linear(in_channels, channels[0] * self.sub**2)
        widths = channels + (out_channels, )
        self.convs = nn.ModuleList(
            nn.Conv2d(widths[i], widths[i + 1], 3, padding=1)
            for i in range(len(channels)))
        self.act = nn.GELU()
        self._default_init()

    def _default_init(self) -> None:
        trunc_normal_(self.linear.weight, std=0.02)
        nn.init.zeros_(self.linear.bias)
        last = len(self.convs) - 1
        for i, conv in enumerate(self.convs):
            # He init for the GELU-followed convs, unit gain for the output
            nn.init.kaiming_normal_(
                conv.weight, mode='fan_in',
                nonlinearity='relu' if i < last else 'linear')
            nn.init.zeros_(conv.bias)

    def init_weights(self) -> None:
        first = not self._is_init
        super().init_weights()
        if first and not self.init_cfg:
            self._default_init()

    def forward(self, tokens: torch.Tensor,
                hw: Tuple[int, int]) -> torch.Tensor:
        """
        Args:
            tokens: (B, N, in_channels), row-major over the (h, w) grid.
            hw: (h, w) token grid, N = h * w.
        Returns:
            (B, out_channels, h * patch_size, w * patch_size).
        """
        h, w = check_tokens(tokens, self.in_channels, hw)
        B, s = tokens.shape[0], self.sub
        x = self.linear(tokens)  # (B, N, c0*s*s)
        x = x.transpose(1, 2).reshape(B, -1, h, w)  # (B, c0*s*s, h, w)
        x = F.pixel_shuffle(x, s)  # (B, c0, h*s, w*s)
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        first_up = len(self.convs) - self.num_upsample
        for i, conv in enumerate(self.convs):
            if i >= first_up and self.upsample_mode == 'nearest':
                x = upsample_conv3x3(x, conv)  # (B, C_i+1, 2H, 2W)
            elif i >= first_up:
                x = conv(F.interpolate(x, scale_factor=2.0, mode='bilinear',
                                       align_corners=False))
            else:
                x = conv(x)  # (B, C_i+1, H, W)
            if i < len(self.convs) - 1:
                x = self.act(x)
        return x  # (B, out_channels, h*p, w*p)
