"""DINOv2 loss: DINO [CLS] distillation + iBOT masked-patch distillation +
KoLeo, with a Sinkhorn-Knopp (or centred) teacher.

Oquab et al., "DINOv2: Learning Robust Visual Features without
Supervision", TMLR 2024, Sec. 5 (defaults of its ``ssl_default_config``).
With G global and L local views (V = G + L), batch B, student logits s
([CLS] of all V views, masked patch tokens of the G global views), teacher
logits t of the unmasked global views, student temperature τ_s (0.1),
teacher temperature τ_t (warm-up 0.04 → 0.07 over 30 epochs):

    P_t = SK(t / τ_t)          (``centering='sinkhorn_knopp'``, 3 iterations,
                                :func:`sinkhorn_knopp`; [CLS] over the G*B
                                rows, patches over the M masked tokens,
                                both across ranks)
        or softmax((t − c) / τ_t)   (``centering='centering'``: iBOT's EMA
                                centres c, :class:`iBOTLoss`)

    L_DINO  = λ1 · 1/(G(V−1)) Σ_{q<G} Σ_{v≠q} mean_b [ −Σ_k P_t(t_qb)_k log softmax(s_vb/τ_s)_k ]
    L_iBOT  = λ2 · 1/(G·B) Σ_{q,b} Σ_n m_qbn CE_qbn / max(Σ_n m_qbn, 1)
    L_KoLeo = w · Σ_{q<G} KoLeo(x_q)     (x_q: student [CLS] backbone
                                          features of global view q, (B, C))

DINOv2 normalises its DINO terms by the number of (teacher, student) pairs:
the G(G−1) cross pairs of the global views plus the G·L (global, local)
pairs, i.e. exactly the G(V−1) pairs v ≠ q of iBOT's [CLS] loss, and its
patch loss by the G·B images: the cross-entropies are :class:`iBOTLoss`'s,
only the teacher targets (Sinkhorn-Knopp) and the KoLeo term are new. With
Sinkhorn-Knopp the centres are neither used nor updated (kept as buffers,
so the switch does not change the checkpoint keys).
"""
from typing import Dict, Optional, Tuple

import torch
from mmpretrain.registry import MODELS

from .ibot_loss import iBOTLoss
from .koleo_loss import koleo_loss
from .sinkhorn_knopp import sinkhorn_knopp

CENTERINGS = ('sinkhorn_knopp', 'centering')


@MODELS.register_module()
class DINOv2Loss(iBOTLoss):
    """See the module docstring for the equations.

    Args:
        out_dim, patch_out_dim, num_global, num_local, student_temp,
        center_momentum, center_momentum2, lambda_cls, lambda_patch,
        monitor: as :class:`iBOTLoss` (DINOv2: 65536 prototypes for both,
            8 local crops, τ_s 0.1, weights 1 and 1).
        centering: ``'sinkhorn_knopp'`` (default) or ``'centering'``.
        sk_iterations: Sinkhorn-Knopp iterations (3).
        koleo_weight: w of the KoLeo term (0.1; 0 = off).
    """

    def __init__(self, out_dim: int = 65536, patch_out_dim: int = 65536,
                 num_global: int = 2, num_local: int = 8,
                 centering: str = 'sinkhorn_knopp', sk_iterations: int = 3,
                 koleo_weight: float = 0.1, **kwargs) -> None:
        super().__init__(out_dim=out_dim, patch_out_dim=patch_out_dim,
                         num_global=num_global, num_local=num_local,
                         **kwargs)
        if centering not in CENTERINGS:
            raise ValueError(f'centering={centering!r}: expected one of '
                             f'{CENTERINGS}')
        self.centering = centering
        self.sk_iterations = sk_iterations
        self.koleo_weight = koleo_weight

    def teacher_probs(self, teacher_cls: torch.Tensor,
                      teacher_patch: torch.Tensor, teacher_temp: float,
                      teacher_patch_temp: float
                      ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Sinkhorn-Knopp targets of the [CLS] (G*B, K) and masked patch
        (M, K2) logits, or iBOT's centred softmax (``centering``)."""
        if self.centering == 'centering':
            return super().teacher_probs(teacher_cls, teacher_patch,
                                         teacher_temp, teacher_patch_temp)
        return (sinkhorn_knopp(teacher_cls, teacher_temp,
                               self.sk_iterations),
                sinkhorn_knopp(teacher_patch, teacher_patch_temp,
                               self.sk_iterations))

    @torch.no_grad()
    def update_center(self, teacher_cls: torch.Tensor,
                      teacher_patch_mean: torch.Tensor) -> None:
        """iBOT's centre update with ``centering='centering'``; nothing
        with Sinkhorn-Knopp."""
        if self.centering == 'centering':
            super().update_center(teacher_cls, teacher_patch_mean)

    def forward(self, *args,
                student_global_cls: Optional[torch.Tensor] = None,
                **kwargs) -> Dict[str, torch.Tensor]:
        """:meth:`iBOTLoss.forward` (same arguments) plus ``loss_koleo``.

        Args:
            student_global_cls: (G*B, C) the student's [CLS] backbone
                features of the global views, view-major; needed when
                ``koleo_weight > 0``.
        """
        out = super().forward(*args, **kwargs)
        if self.koleo_weight:
            if student_global_cls is None:
                raise ValueError('DINOv2Loss with koleo_weight='
                                 f'{self.koleo_weight} needs '
                                 'student_global_cls (G*B, C)')
            views = student_global_cls.chunk(self.num_global)  # G x (B, C)
            out['loss_koleo'] = self.koleo_weight * sum(
                koleo_loss(x) for x in views)
        return out
