"""Rescuing easy samples (adaptive augmentation).

Wang, Krajsek, Scharr, "Rescuing Easy Samples in Self-Supervised
Pretraining", VISAPP 2025. Per batch, the k samples whose two views'
embeddings have the highest cosine similarity are "easy": their views are
re-augmented with a strong recipe, forwarded, and an extra loss on the
cosine similarity of the outputs is added::

    s_b = cos(e1_b, e2_b);   I = top-k_b(s_b),  k = max(1, round(ratio·B))
    L_topk = w · mean_{i∈I, a∈{1,2}} [1 − cos(f(A(x_{a,i})), sg(t_{ā,i}))]

where A is the strong augmentation, f the student's output and t_ā the
target output of the *other* original view (the teacher's for iBOT, the
student's, detached, for VICReg). k, w and the strong recipe are not
published; our defaults are k = 25 % of the batch, w = 0.5 and the
RandAugment-like recipe of :class:`StrongAugment`.
"""
import math
from typing import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmpretrain.registry import MODELS

from mmequi.param_transforms import build_param_transform, sample_uniform


class StrongAugment(nn.Module):
    """Strong photometric + geometric augmentation of [0, 1] images, on the
    images' device, one random draw per image (torch's generator).

    Ops, in order, each applied per image with its probability:

    * SE(2): rotation U(±max_angle)°, translation U(±max_shift)·size (p_geo);
    * colour: brightness/contrast/saturation factors 1+U(±strength),
      hue shift U(±hue) (p_color); grayscale (p_gray);
    * Gaussian blur σ ∈ U(blur_sigma) (p_blur);
    * solarize at 0.5 (p_solarize).
    """

    def __init__(self, max_angle: float = 30.0, max_shift: float = 0.1,
                 p_geo: float = 0.5, strength: float = 0.8,
                 hue: float = 0.2, p_color: float = 0.8,
                 p_gray: float = 0.2,
                 blur_sigma: Sequence[float] = (0.1, 2.0),
                 p_blur: float = 0.5, p_solarize: float = 0.2) -> None:
        super().__init__()
        for name, p in (('p_geo', p_geo), ('p_color', p_color),
                        ('p_gray', p_gray), ('p_blur', p_blur),
                        ('p_solarize', p_solarize)):
            if not 0.0 <= p <= 1.0:
                raise ValueError(f'{name}={p} must be in [0, 1]')
        if not 0 <= strength < 1:
            raise ValueError(f'strength={strength} must be in [0, 1)')
        self.max_angle, self.max_shift = max_angle, max_shift
        self.strength, self.hue = strength, hue
        self.blur_sigma = tuple(blur_sigma)
        self.p = dict(geo=p_geo, color=p_color, gray=p_gray, blur=p_blur,
                      solarize=p_solarize)
        self.se2 = build_param_transform(
            dict(type='se2', max_angle=max_angle, max_shift=1.0))
        self.color = build_param_transform(
            dict(type='color', brightness=strength, contrast=strength,
                 saturation=1.0, hue=max(hue, 1e-6)))
        self.blur = build_param_transform(
            dict(type='blur', sigma=self.blur_sigma))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (n, 3, H, W) in [0, 1] -> (n, 3, H, W) in [0, 1]."""
        n, dev = x.shape[0], x.device

        def coin(p):  # (n,) bool
            return torch.rand(n, device=dev) < p

        def uniform(low, high, *shape):
            return sample_uniform((n, *shape), low, high, device=dev)

        size = torch.tensor([x.shape[-1], x.shape[-2]], device=dev)
        theta = torch.cat([uniform(-self.max_angle, self.max_angle, 1),
                           uniform(-self.max_shift, self.max_shift, 2) * size],
                          dim=1) * coin(self.p['geo'])[:, None]  # (n, 3)
        x = self.se2.apply(x, theta)
        s = self.strength
        color = torch.cat([uniform(-s, s, 3), uniform(-self.hue, self.hue, 1)],
                          dim=1) * coin(self.p['color'])[:, None]  # (n, 4)
        color[:, 2] = torch.where(coin(self.p['gray']), -1.0, color[:, 2])
        x = self.color.apply(x, color)
        sigma = uniform(*self.blur_sigma, 1) * coin(self.p['blur'])[:, None]
        x = self.blur.apply(x, sigma)
        sol = coin(self.p['solarize'])[:, None, None, None]
        return torch.where(sol & (x >= 0.5), 1.0 - x, x)


@MODELS.register_module()
class EasySampleRescue(nn.Module):
    """Top-k easy-sample selection, strong views and the rescue loss.

    Args:
        ratio: fraction of the batch treated as easy (k = max(1, round)).
        loss_weight: w.
        strong_aug: :class:`StrongAugment` arguments.
    """

    def __init__(self, ratio: float = 0.25, loss_weight: float = 0.5,
                 strong_aug: dict = dict()) -> None:
        super().__init__()
        if not 0 < ratio <= 1:
            raise ValueError(f'ratio={ratio} must be in (0, 1]')
        self.ratio, self.loss_weight = ratio, loss_weight
        self.strong = StrongAugment(**strong_aug)

    def num_selected(self, batch: int) -> int:
        return max(1, int(math.floor(self.ratio * batch + 0.5)))

    @torch.no_grad()
    def select(self, e1: torch.Tensor, e2: torch.Tensor) -> torch.Tensor:
        """Indices (k,) of the most similar view pairs; e1, e2: (B, D)."""
        sim = F.cosine_similarity(e1.float(), e2.float(), dim=-1)  # (B,)
        return sim.topk(self.num_selected(sim.shape[0])).indices

    @torch.no_grad()
    def augment(self, x: torch.Tensor, preprocessor) -> torch.Tensor:
        """Strong views of normalised images x (n, 3, H, W), normalised the
        same way, with the preprocessor's
        :class:`~mmequi.param_transforms.PixelNormalizer`
        (``preprocessor.pixels``, e.g. ``EquiReconDataPreprocessor``'s)."""
        pixels = preprocessor.pixels
        x01 = pixels.denormalize(x.float())
        return pixels.normalize(self.strong(x01)).to(x.dtype)

    def loss(self, out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """w · mean(1 − cos(out, sg(target))); out, target: (n, D)."""
        cos = F.cosine_similarity(out.float(), target.detach().float(),
                                  dim=-1)  # (n,)
        return self.loss_weight * (1.0 - cos).mean()
