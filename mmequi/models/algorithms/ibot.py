"""iBOT self-supervised pretraining (Zhou et al., ICLR 2022).

Student: :class:`iBOTViT` (masked global crops + unmasked local crops) and
:class:`iBOTNeck`; teacher: an EMA copy of both (no gradient, no drop path)
that sees the unmasked global crops; loss: :class:`iBOTLoss`.

Per training step (one batch of B images with G global + L local crops)::

    teacher (no_grad):  T = backbone_t(globals)            (G*B, 1+N, C)
                        H = neck_t.embed_all(T)             (G*B, 1+N, b)
                        t_cls = neck_t.last(H[:, 0])        (G*B, K)
                        t_patch = neck_t.last(H[:, 1:][masks])   (M, K2)*
                        t_mean = neck_t.last(mean_n H[:, 1:])    (G*B, K2)
    student:            S = backbone(globals, masks)        (G*B, 1+N, C)
                        S_l = backbone(locals, cls_only)    (L*B, 1, C)  one call
                        h = neck.embed_tokens([S[:, 0]; S_l[:, 0]], S[:, 1:][masks]*)
                        s_cls, s_patch = neck.last(h)       (V*B, K), (M, K2)

* The masked tokens are gathered with ``index_select`` and the flat indices
the data preprocessor made on the host (``iBOTDataPreprocessor``,
``EquiReconDataPreprocessor``: :mod:`~mmequi.models.data_preprocessors.
mask_index`), which gives the rows of ``x[masks]`` in the same order without
a device->host sync; with another preprocessor (e.g. mmpretrain's
``SelfSupDataPreprocessor``) the index is computed on the device with
``nonzero`` (same values, one sync per step, warned once).

The neck runs only on the tokens a loss uses (the official code also
projects every local patch token and discards them), each neck MLP once per
step. The teacher's last layer sees only the masked tokens and one mean
bottleneck per image: the patch centre needs the mean logits over all
tokens, and as the last layer is linear that is the projection of the mean
bottleneck (:class:`iBOTLoss`, ``teacher_patch_mean``). The EMA update,
the teacher-temperature warm-up and the last-layer freeze are driven by
:class:`~mmequi.engine.hooks.DistillationTeacherHook` and
:class:`~mmequi.engine.optimizers.SSLOptimWrapper`; their state is derived
from the runner's epoch/iteration, so ``--resume`` continues them exactly.

Checkpoint prefixes: ``backbone.`` / ``neck.`` (student), ``teacher.backbone.``
/ ``teacher.neck.`` (teacher), ``ibot_loss.center``/``center2`` (centres).
"""
import copy
import logging
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn as nn
from mmengine.logging import print_log
from mmpretrain.models.selfsup.base import BaseSelfSupervisor
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from ..data_preprocessors.mask_index import (MASK_INDEX_KEY,
                                             gather_mask_token_index)


@MODELS.register_module()
class iBOT(BaseSelfSupervisor):
    """iBOT algorithm.

    Args:
        backbone: student backbone config (:class:`iBOTViT`); the teacher
            is built from the same config with ``drop_path_rate=0``.
        neck: projection head config (:class:`iBOTNeck`), shared by [CLS]
            and patch tokens.
        loss: :class:`iBOTLoss` config; its ``num_global``/``num_local``
            must match the data pipeline (checked every step).
        data_preprocessor: e.g. ``iBOTDataPreprocessor`` with
            ``to_rgb=False`` (the multi-crop transform emits RGB); it
            stores the masked-token index that keeps the step free of
            host syncs (mmpretrain's ``SelfSupDataPreprocessor`` works
            too, with one sync per step).
    """

    def __init__(self, backbone: dict, neck: dict, loss: dict,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(backbone=backbone, neck=neck,
                         data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)
        teacher_backbone = copy.deepcopy(backbone)
        teacher_backbone['drop_path_rate'] = 0.0
        self.teacher = nn.ModuleDict(
            dict(backbone=MODELS.build(teacher_backbone),
                 neck=MODELS.build(copy.deepcopy(neck))))
        self.teacher.requires_grad_(False)
        self.ibot_loss = MODELS.build(self._ibot_loss_config(loss))
        self.num_global = self.ibot_loss.num_global
        self.num_local = self.ibot_loss.num_local
        # set every epoch by DistillationTeacherHook
        self.teacher_temp: Optional[float] = None
        self.teacher_patch_temp: Optional[float] = None
        self._pairs: Optional[Tuple[List[torch.Tensor],
                                    List[torch.Tensor]]] = None
        self._warned_mask_index = False

    def _ibot_loss_config(self, loss: dict) -> dict:
        """The loss config to build, called once the neck is built; iBOT
        uses it as given (subclasses derive sizes from ``self.neck``)."""
        return loss

    # ------------------------------------------------------------- teacher
    def init_weights(self) -> None:
        super().init_weights()
        self.copy_student_to_teacher()

    @torch.no_grad()
    def copy_student_to_teacher(self) -> None:
        """teacher ← student (as at the start of training)."""
        self.teacher.backbone.load_state_dict(self.backbone.state_dict())
        self.teacher.neck.load_state_dict(self.neck.state_dict())

    def _param_pairs(self) -> Tuple[List[torch.Tensor], List[torch.Tensor]]:
        if self._pairs is None:
            teacher, student = [], []
            for part in ('backbone', 'neck'):
                s_params = dict(getattr(self, part).named_parameters())
                for name, t in self.teacher[part].named_parameters():
                    s = s_params[name]
                    if s.shape != t.shape:
                        raise RuntimeError(
                            f'teacher/student shape mismatch at {part}.{name}')
                    teacher.append(t)
                    student.append(s)
            self._pairs = (teacher, student)
        return self._pairs

    @torch.no_grad()
    def momentum_update(self, momentum: float) -> None:
        """θ_t ← m·θ_t + (1 − m)·θ_s for every teacher parameter."""
        teacher, student = self._param_pairs()
        torch._foreach_lerp_(teacher, [s.detach() for s in student],
                             1.0 - momentum)

    def train(self, mode: bool = True):
        super().train(mode)
        self.teacher.eval()  # no dropout/drop-path; kept in eval always
        return self

    def _apply(self, fn, *args, **kwargs):
        self._pairs = None  # parameters may be replaced (.to(), .half())
        return super()._apply(fn, *args, **kwargs)

    # ----------------------------------------------------------- features
    def extract_feat(self, inputs: torch.Tensor,
                     use_teacher: bool = False) -> torch.Tensor:
        """All tokens (B, 1 + N, C) of the student (or teacher) backbone."""
        backbone = self.teacher.backbone if use_teacher else self.backbone
        return backbone(inputs)

    # --------------------------------------------------------------- loss
    def _split_views(self, inputs: List[torch.Tensor],
                     data_samples: List[DataSample]):
        V = self.num_global + self.num_local
        if not isinstance(inputs, (list, tuple)) or len(inputs) != V:
            raise ValueError(
                f'iBOT expects {V} views ({self.num_global} global + '
                f'{self.num_local} local) per image, got '
                f'{len(inputs) if isinstance(inputs, (list, tuple)) else 1}')
        G = self.num_global
        globals_ = torch.cat(inputs[:G])  # (G*B, 3, H, W)
        locals_ = torch.cat(inputs[G:]) if self.num_local else None
        masks = torch.stack([ds.mask for ds in data_samples])  # (B, G, h, w)
        if masks.shape[1] != G:
            raise ValueError(f'data samples carry {masks.shape[1]} masks, '
                             f'expected one per global view ({G})')
        masks = masks.transpose(0, 1).flatten(0, 1).flatten(1).bool()
        return globals_, locals_, masks  # masks: (G*B, N)

    def _mask_index(self, data_samples: List[DataSample],
                    masks: torch.Tensor) -> torch.Tensor:
        """(M,) flat indices of the True entries of ``masks`` (G*B, N) in
        row-major order (= ``masks.flatten().nonzero()[:, 0]``): from the
        data samples' ``mask_token_index`` (no sync), else computed here
        with ``nonzero`` (a host sync on a GPU; warned once)."""
        index = gather_mask_token_index(data_samples, self.num_global,
                                        masks.shape[1])
        if index is not None:
            return index.to(masks.device, non_blocking=True)
        if not self._warned_mask_index:
            self._warned_mask_index = True
            print_log(
                f'{type(self).__name__}: the data samples carry no '
                f'"{MASK_INDEX_KEY}" (data preprocessor '
                f'{type(self.data_preprocessor).__name__}); the masked '
                'tokens are found with nonzero, one device->host sync per '
                "step. Use data_preprocessor=dict(type='iBOTDataPreprocessor'"
                ', ...) (same arguments as SelfSupDataPreprocessor).',
                logger='current', level=logging.WARNING)
        return masks.flatten().nonzero()[:, 0]

    def _check_temperatures(self) -> None:
        if self.teacher_temp is None or self.teacher_patch_temp is None:
            raise RuntimeError(
                'iBOT teacher temperatures are unset: add '
                "dict(type='DistillationTeacherHook', ...) to custom_hooks "
                '(or set model.teacher_temp/teacher_patch_temp)')

    @torch.no_grad()
    def _teacher_outputs(self, globals_: torch.Tensor, index: torch.Tensor,
                         cls_rows: Optional[slice] = None,
                         patch_rows: Optional[slice] = None
                         ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Teacher logits of the unmasked global views (optionally only the
        prototype ``rows``): [CLS] (G*B, K), the masked patch tokens
        (M, K2) at the flat ``index`` (:meth:`_mask_index`), and each image's patch logits
        averaged over all its N tokens (G*B, K2), computed as the projection
        of the mean bottleneck (the last layer is linear)."""
        neck = self.teacher.neck
        # (G*B, b), (G*B, N, b)
        h_cls, h_patch = neck.embed_all(self.teacher.backbone(globals_))
        rows = torch.cat([h_patch.flatten(0, 1).index_select(0, index),
                          h_patch.mean(1)])  # (M + G*B, b)
        t_cls, t_patch = neck.project(h_cls, rows, cls_rows, patch_rows)
        num_masked = rows.shape[0] - h_cls.shape[0]
        return t_cls, t_patch[:num_masked], t_patch[num_masked:]

    def _student_cls_tokens(self, s_tokens: torch.Tensor,
                            locals_: Optional[torch.Tensor]) -> torch.Tensor:
        """[CLS] tokens of all views (V*B, C): the global views' tokens
        ``s_tokens`` plus all local crops in one backbone call (its last
        layer computed for [CLS] only: ``cls_only=True``)."""
        cls_tokens = [s_tokens[:, 0]]
        if locals_ is not None:
            cls_tokens.append(
                self.backbone(locals_, cls_only=True)[:, 0])  # (L*B, C)
        return torch.cat(cls_tokens)

    def _student_outputs(self, s_tokens: torch.Tensor,
                         locals_: Optional[torch.Tensor], index: torch.Tensor,
                         cls_rows: Optional[slice] = None,
                         patch_rows: Optional[slice] = None
                         ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Student logits: [CLS] of all views (V*B, K) and the masked patch
        tokens of the global views at the flat ``index`` (M, K2), from one
        neck MLP pass over both."""
        cls_tokens = self._student_cls_tokens(s_tokens, locals_)  # (V*B, C)
        h_cls, h_patch = self.neck.embed_tokens(
            cls_tokens, s_tokens[:, 1:].flatten(0, 1).index_select(
                0, index))  # (V*B, b), (M, b)
        return self.neck.project(h_cls, h_patch, cls_rows, patch_rows)

    def _distill(self, s_cls, s_patch, t_cls, t_patch, masks, mask_index,
                 t_patch_mean, s_tokens):
        """The distillation losses (``s_tokens``: the student's global-view
        tokens (G*B, 1+N, C), unused by iBOT, read by :class:`DINOv2`'s
        KoLeo term)."""
        return self.ibot_loss(s_cls, s_patch, t_cls, t_patch, masks,
                              teacher_temp=self.teacher_temp,
                              teacher_patch_temp=self.teacher_patch_temp,
                              mask_index=mask_index,
                              teacher_patch_mean=t_patch_mean)

    def loss(self, inputs: List[torch.Tensor],
             data_samples: List[DataSample],
             **kwargs) -> Dict[str, torch.Tensor]:
        self._check_temperatures()
        globals_, locals_, masks = self._split_views(inputs, data_samples)
        index = self._mask_index(data_samples, masks)  # (M,)
        t_cls, t_patch, t_mean = self._teacher_outputs(globals_, index)
        s_tokens = self.backbone(globals_, mask=masks)  # (G*B, 1+N, C)
        s_cls, s_patch = self._student_outputs(
            s_tokens, locals_, index)  # (V*B, K), (M, K2)
        return self._distill(s_cls, s_patch, t_cls, t_patch, masks, index,
                             t_mean, s_tokens)
