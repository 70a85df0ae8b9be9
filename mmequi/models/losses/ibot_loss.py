"""iBOT loss: [CLS] self-distillation across views + masked patch distillation.

Zhou et al., "iBOT: Image BERT Pre-Training with Online Tokenizer",
ICLR 2022, Eq. (1)-(2); behaviour matched to the official ``iBOTLoss``.

With G global and L local views (V = G + L), batch B, teacher temperature
τ_t (τ_t2 for patches), student temperature τ_s and centres c1 (1, K),
c2 (1, 1, K2):

    P_t(x) = softmax((x − c) / τ_t),    log P_s(y) = log_softmax(y / τ_s)

    L_cls   = λ1 · 1/(G(V−1)) Σ_{q<G} Σ_{v≠q} mean_b [ −Σ_k P_t(t_q)_k log P_s(s_v)_k ]

    L_patch = λ2 · 1/G Σ_{q<G} mean_b [ Σ_n m_qbn · CE_qbn / max(Σ_n m_qbn, 1) ]
              with CE_qbn = −Σ_k P_t(tp_qbn)_k log P_s(sp_qbn)_k

(images without a masked token add 0 but count in the mean). The centres
used are those before the call; afterwards
c1 ← μ c1 + (1 − μ) mean_{q,b} t_qb and
c2 ← μ2 c2 + (1 − μ2) mean_{q,b} mean_n tp_qbn (all tokens, masked or not),
with the batch sums all-reduced over ranks (DINOv2-style centring).

The teacher's patch logits come either for all tokens, (G*B, N, K2), or --
the cheaper form :class:`~mmequi.models.iBOT` uses -- only for the masked
tokens, (M, K2), together with their per-image mean over all N tokens,
``teacher_patch_mean`` (G*B, K2): the last layer is linear, so
mean_n tp_qbn = W · mean_n h_qbn needs one projection per image instead of
one per token. Both forms give the same losses and centres.

With ``monitor=True`` the output also holds the teacher's collapse figures
(:func:`~mmequi.models.utils.collapse_stats.teacher_collapse_stats`, no
gradient, not summed into the loss because their names lack ``loss``):
``teacher_cls_entropy`` / ``teacher_patch_entropy`` (mean row entropy / ln K:
1 = uniform) and ``teacher_cls_protos`` / ``teacher_patch_protos``
(prototypes in use: 1 = every row on one prototype), the patch figures over
the masked tokens.
"""
from typing import Dict, Optional, Tuple

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F
from mmpretrain.registry import MODELS

from ..utils.collapse_stats import teacher_collapse_stats


def _all_reduce_mean(x: torch.Tensor, count: int) -> torch.Tensor:
    """Sum of ``x`` over ranks divided by the global ``count``."""
    if dist.is_available() and dist.is_initialized():
        x = x.clone()
        dist.all_reduce(x)
        count = count * dist.get_world_size()
    return x / count


@MODELS.register_module()
class iBOTLoss(nn.Module):
    """See the module docstring for the equations.

    Args:
        out_dim: K, [CLS] prototypes.
        patch_out_dim: K2, patch prototypes.
        num_global: G, global views (the only ones with masks and teacher
            outputs).
        num_local: L, local views.
        student_temp: τ_s (0.1).
        center_momentum: μ for c1 (0.9).
        center_momentum2: μ2 for c2 (0.9).
        lambda_cls: λ1; lambda_patch: λ2 (1, 1).
        monitor: add the teacher's collapse figures to the output (see
            the module docstring; True).
    """

    def __init__(self, out_dim: int = 8192, patch_out_dim: int = 8192,
                 num_global: int = 2, num_local: int = 10,
                 student_temp: float = 0.1, center_momentum: float = 0.9,
                 center_momentum2: float = 0.9, lambda_cls: float = 1.0,
                 lambda_patch: float = 1.0, monitor: bool = True) -> None:
        super().__init__()
        if num_global < 1 or num_local < 0:
            raise ValueError(f'need num_global >= 1 and num_local >= 0, got '
                             f'{num_global}, {num_local}')
        if num_global + num_local < 2:
            raise ValueError('the [CLS] loss needs at least two views')
        self.out_dim, self.patch_out_dim = out_dim, patch_out_dim
        self.num_global, self.num_local = num_global, num_local
        self.student_temp = student_temp
        self.center_momentum = center_momentum
        self.center_momentum2 = center_momentum2
        self.lambda_cls, self.lambda_patch = lambda_cls, lambda_patch
        self.monitor = monitor
        self.register_buffer('center', torch.zeros(1, out_dim))
        self.register_buffer('center2', torch.zeros(1, 1, patch_out_dim))

    def forward(self, student_cls: torch.Tensor, student_patch: torch.Tensor,
                teacher_cls: torch.Tensor, teacher_patch: torch.Tensor,
                masks: torch.Tensor, teacher_temp: float,
                teacher_patch_temp: float,
                mask_index: Optional[torch.Tensor] = None,
                teacher_patch_mean: Optional[torch.Tensor] = None
                ) -> Dict[str, torch.Tensor]:
        """
        Args:
            student_cls: (V*B, K), views stacked view-major
                ([g1 batch, g2 batch, l1 batch, ...]).
            student_patch: (M, K2) logits of the masked tokens only, in the
                order of ``masks.nonzero()`` over (G*B, N).
            teacher_cls: (G*B, K).
            teacher_patch: (G*B, N, K2), all tokens; or, with
                ``teacher_patch_mean``, (M, K2): the masked tokens only, in
                the order of ``student_patch``.
            masks: (G*B, N) bool.
            teacher_temp, teacher_patch_temp: τ_t and τ_t2.
            mask_index: optional (M,) int64 flat indices of the True
                entries of ``masks`` in row-major order
                (``masks.flatten().nonzero()[:, 0]``, e.g. made on the host
                by the data preprocessor); given, the loss runs without a
                device->host sync; None: computed here with ``nonzero``
                (one sync on a GPU). Same values either way.
            teacher_patch_mean: (G*B, K2), mean over all N tokens of each
                image's teacher patch logits (for the centre c2); given
                exactly when ``teacher_patch`` holds the masked rows only.
        Returns:
            ``dict(loss_cls=..., loss_patch=...)`` (scalars), plus the
            ``teacher_*`` collapse figures with ``monitor=True``.
        """
        G, V = self.num_global, self.num_global + self.num_local
        GB, N = masks.shape
        B = GB // G
        if teacher_patch_mean is None:
            patch_ok = teacher_patch.shape[:2] == (GB, N)
        else:
            patch_ok = teacher_patch.dim() == 2 and \
                teacher_patch_mean.shape == (GB, teacher_patch.shape[1])
        if GB != B * G or teacher_cls.shape[0] != GB or not patch_ok:
            mean_shape = None if teacher_patch_mean is None else tuple(
                teacher_patch_mean.shape)
            raise ValueError(
                f'expected {G} global views: masks {tuple(masks.shape)}, '
                f'teacher_cls {tuple(teacher_cls.shape)}, teacher_patch '
                f'{tuple(teacher_patch.shape)} (all tokens (G*B, N, K2), or '
                'the masked ones (M, K2) with teacher_patch_mean (G*B, K2)), '
                f'teacher_patch_mean {mean_shape}')
        if student_cls.shape[0] != V * B:
            raise ValueError(f'student_cls has {student_cls.shape[0]} rows, '
                             f'expected {V} views x {B} = {V * B}')
        masks = masks.bool()
        if mask_index is None:
            mask_index = masks.flatten().nonzero()[:, 0]  # host sync
        if mask_index.dim() != 1 or mask_index.dtype != torch.int64:
            raise ValueError('mask_index must be (M,) int64, got '
                             f'{tuple(mask_index.shape)} {mask_index.dtype}')
        M = mask_index.numel()
        if student_patch.shape[0] != M or (
                teacher_patch_mean is not None and teacher_patch.shape[0] != M):
            raise ValueError(
                f'student_patch has {student_patch.shape[0]} rows (teacher '
                f'patch: {teacher_patch.shape[0]}) but masks select {M} '
                'tokens')
        # at least fp32, autocast off: the einsum would otherwise run in bf16
        dtype = torch.promote_types(student_cls.dtype, torch.float32)
        teacher_cls = teacher_cls.detach().to(dtype)
        teacher_patch = teacher_patch.detach().to(dtype)
        if teacher_patch_mean is None:
            patch_mean = teacher_patch.mean(1)  # (GB, K2)
            teacher_patch = teacher_patch.flatten(0, 1).index_select(
                0, mask_index)  # (M, K2)
        else:
            patch_mean = teacher_patch_mean.detach().to(dtype)
        with torch.autocast(device_type=masks.device.type, enabled=False):
            loss_cls, loss_patch, t_cls, t_patch = self._losses(
                student_cls.to(dtype), student_patch.to(dtype), teacher_cls,
                teacher_patch, masks, mask_index, teacher_temp,
                teacher_patch_temp)
        self.update_center(teacher_cls, patch_mean)
        out = dict(loss_cls=loss_cls, loss_patch=loss_patch)
        if self.monitor:
            out.update(teacher_collapse_stats(
                [t_cls.flatten(0, 1), t_patch],
                ['teacher_cls', 'teacher_patch']))
        return out

    def _losses(self, student_cls, student_patch, teacher_cls, teacher_patch,
                masks, mask_index, teacher_temp, teacher_patch_temp):
        G, V = self.num_global, self.num_global + self.num_local
        GB, N = masks.shape
        image = mask_index // N  # (M,) image index in 0..GB-1
        B = GB // G
        t_cls, t_patch = self.teacher_probs(teacher_cls, teacher_patch,
                                            teacher_temp, teacher_patch_temp)
        t_cls = t_cls.view(G, B, -1)  # (G, B, K)

        # [CLS]: every (teacher global q, student view v != q) pair
        s_cls = F.log_softmax(student_cls / self.student_temp,
                              dim=-1).view(V, B, -1)  # (V, B, K)
        # Σ_b of the cross-entropy for all (q, v) at once: (G, V)
        ce = -torch.einsum('qbk,vbk->qv', t_cls, s_cls) / B
        # the G(V-1) pairs v != q in row-major order (as a boolean
        # selection would give them, without its host sync):
        # column j + [j >= q] of row q, j < V - 1
        q = torch.arange(G, device=ce.device)[:, None]
        j = torch.arange(V - 1, device=ce.device)[None]
        pairs = (q * V + j + (j >= q).long()).flatten()  # (G(V-1),)
        loss_cls = ce.flatten().index_select(0, pairs).mean() * \
            self.lambda_cls

        # patches: masked tokens of the same global view only
        s_patch = F.log_softmax(student_patch / self.student_temp,
                                dim=-1)  # (M, K2)
        token_ce = -(t_patch * s_patch).sum(-1)  # (M,)
        per_image = torch.zeros(GB, dtype=token_ce.dtype,
                                device=token_ce.device).index_add(
                                    0, image, token_ce)  # (GB,)
        count = masks.sum(-1).clamp(min=1).to(per_image.dtype)  # (GB,)
        loss_patch = (per_image / count).mean() * self.lambda_patch
        # teacher probabilities (G, B, K) and (M, K2) for the monitor
        return loss_cls, loss_patch, t_cls, t_patch

    def teacher_probs(self, teacher_cls: torch.Tensor,
                      teacher_patch: torch.Tensor, teacher_temp: float,
                      teacher_patch_temp: float
                      ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Teacher targets: softmax((t − c) / τ) of the [CLS] logits
        (G*B, K) and of the masked patch logits (M, K2) with the centres
        from before the call."""
        dtype = teacher_cls.dtype
        center, center2 = self.center.to(dtype), self.center2.to(dtype)
        t_cls = F.softmax((teacher_cls - center) / teacher_temp,
                          dim=-1)  # (G*B, K)
        t_patch = F.softmax(
            (teacher_patch - center2[0]) / teacher_patch_temp,
            dim=-1)  # (M, K2), teacher_patch: the masked rows
        return t_cls, t_patch

    @torch.no_grad()
    def update_center(self, teacher_cls: torch.Tensor,
                      teacher_patch_mean: torch.Tensor) -> None:
        """EMA of the teacher's batch means (all-reduced over ranks).

        Args:
            teacher_cls: (G*B, K); teacher_patch_mean: (G*B, K2), each
                image's patch logits averaged over its N tokens.
        """
        cls_mean = _all_reduce_mean(
            teacher_cls.sum(0, keepdim=True), teacher_cls.shape[0])  # (1, K)
        patch_mean = _all_reduce_mean(
            teacher_patch_mean.sum(0, keepdim=True),
            teacher_patch_mean.shape[0])  # (1, K2)
        self.center.mul_(self.center_momentum).add_(
            cls_mean * (1 - self.center_momentum))
        self.center2.mul_(self.center_momentum2).add_(
            patch_mean.unsqueeze(0) * (1 - self.center_momentum2))
