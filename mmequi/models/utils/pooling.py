"""One feature vector per image from a backbone's output.

The read-out shared by every consumer of frozen features: the
:class:`~mmequi.models.classifiers.EquivarianceProbe`, the k-NN evaluation
loop (:class:`~mmequi.engine.runner.knn_loop.KNNTestLoop`) and the online
probe hook. ``[CLS]`` / mean of patch tokens for ViT token maps, global
average pooling for CNN feature maps, optionally a channel slice (e.g. the
invariant / equivariant halves of an SIE representation).
"""
from typing import Optional, Tuple

import torch

__all__ = ['FEATURES', 'pool_features']

#: Feature types of :func:`pool_features`.
FEATURES = ('cls', 'mean_patch', 'cls_mean_patch', 'gap', 'auto')


def pool_features(out, feature: str, num_extra_tokens: int = 1,
                  channels: Optional[Tuple[int, int]] = None
                  ) -> torch.Tensor:
    """One vector per image from a backbone's output.

    Args:
        out: the backbone output: a tensor or a tuple/list (the last entry
            is used) of token maps ``(B, E + N, C)`` (ViTs, ``E`` extra
            tokens first), feature maps ``(B, C, H, W)`` (CNNs) or pooled
            ``(B, C)``.
        feature: ``'cls'`` (token 0), ``'mean_patch'`` (mean of the N patch
            tokens), ``'cls_mean_patch'`` (both, concatenated: 2C),
            ``'gap'`` (global average pool of a feature map; a pooled
            ``(B, C)`` output passes through for any choice), ``'auto'``
            (``'cls'`` for tokens, ``'gap'`` for feature maps).
        num_extra_tokens: E.
        channels: optional ``(start, end)`` slice of the channels, e.g. the
            invariant ``(0, 256)`` / equivariant ``(256, 512)`` halves of an
            SIE representation.

    Returns:
        ``(B, C')`` features.
    """
    if isinstance(out, (tuple, list)):
        out = out[-1]
    if feature == 'auto':
        feature = 'gap' if out.dim() == 4 else 'cls'
    if out.dim() == 4:
        if feature != 'gap':
            raise ValueError(f'feature={feature!r} needs a token output; the '
                             'backbone gives feature maps (B, C, H, W): use '
                             "feature='gap'")
        x = out.mean(dim=(2, 3))
    elif out.dim() == 3:
        if feature == 'cls':
            x = out[:, 0]
        elif feature == 'mean_patch':
            x = out[:, num_extra_tokens:].mean(dim=1)
        elif feature == 'cls_mean_patch':
            x = torch.cat([out[:, 0], out[:, num_extra_tokens:].mean(1)], -1)
        else:
            raise ValueError(f'feature={feature!r} needs feature maps; the '
                             'backbone gives tokens (B, T, C): choose from '
                             "'cls', 'mean_patch', 'cls_mean_patch'")
    elif out.dim() == 2:
        x = out
    else:
        raise ValueError(f'unsupported backbone output of shape '
                         f'{tuple(out.shape)}')
    if channels is not None:
        start, end = channels
        if not 0 <= start < end <= x.shape[1]:
            raise ValueError(f'channels={tuple(channels)} outside the '
                             f'{x.shape[1]} feature channels')
        x = x[:, start:end]
    return x
