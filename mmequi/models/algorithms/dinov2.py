"""DINOv2 self-supervised pretraining (Oquab et al., TMLR 2024).

The same student/teacher step as :class:`iBOT` (masked global crops and
[CLS]-only local crops for the student; an EMA teacher without gradient on
the unmasked global crops; masks and the host-made masked-token index of
the data preprocessor, ``index_select`` without a device->host sync);
DINOv2 differs in

* the loss, :class:`~mmequi.models.losses.DINOv2Loss`: a Sinkhorn-Knopp
  teacher (or iBOT's centring) and the KoLeo term on the student's
  [CLS] backbone features of the global crops (``s_tokens[:, 0]``);
* the heads: ``separate_head=True`` gives [CLS] and patch tokens their own
  MLP and last layer (:class:`~mmequi.models.necks.SeparateHeadsNeck`),
  ``False`` one shared :class:`iBOTNeck`;
* the backbone options (register tokens, layer scale) and the recipe
  (8 local crops, 65536 prototypes, schedules), which are configs.

Per step (B images, G global + L local crops)::

    teacher (no_grad):  T = backbone_t(globals)             (G*B, 1+N, C)
                        t_cls, t_patch = heads_t(T[:, 0], T[:, 1:][masks])
    student:            S = backbone(globals, masks)         (G*B, 1+N, C)
                        S_l = backbone(locals, cls_only)     (L*B, 1, C)
                        s_cls, s_patch = heads([S[:, 0]; S_l[:, 0]], S[:, 1:][masks])
    loss = DINOv2Loss(s_cls, s_patch, t_cls, t_patch, masks,
                      student_global_cls=S[:, 0])

Checkpoint prefixes as :class:`iBOT` (``backbone.``, ``neck.``,
``teacher.``, ``ibot_loss.``); with separate heads the neck's keys are
``neck.cls_head.*`` / ``neck.patch_head.*``.
"""
from typing import Optional

from mmpretrain.registry import MODELS

from ..losses.dinov2_loss import DINOv2Loss
from .ibot import iBOT


def dinov2_neck(neck: dict, separate_head: bool) -> dict:
    """The neck config of :class:`DINOv2`: ``neck`` itself (an
    ``iBOTNeck``, shared by [CLS] and patches, ``shared_head=True``), or
    ``SeparateHeadsNeck`` around it."""
    if neck.get('type') != 'iBOTNeck':
        raise ValueError("DINOv2 needs neck=dict(type='iBOTNeck', ...) "
                         f"(separate_head switches the layout), got "
                         f"type={neck.get('type')!r}")
    if separate_head:
        return dict(type='SeparateHeadsNeck', head=neck)
    if not neck.get('shared_head', True):
        raise ValueError('DINOv2 with separate_head=False shares the whole '
                         'head: set neck.shared_head=True (or use '
                         'separate_head=True)')
    return neck


@MODELS.register_module()
class DINOv2(iBOT):
    """DINOv2 algorithm.

    Args:
        backbone: student :class:`iBOTViT` config (``num_register_tokens``,
            ``layer_scale_init_value`` as the recipe); the teacher gets the
            same with ``drop_path_rate=0``.
        neck: an :class:`iBOTNeck` config (DINOv2: 2048 hidden, 256
            bottleneck, 65536 prototypes); see ``separate_head``.
        loss: a :class:`DINOv2Loss` config.
        separate_head: separate DINO ([CLS]) and iBOT (patch) heads, each
            built from ``neck`` (DINOv2's ``ibot.separate_head``; its
            default recipe: False).
        data_preprocessor: e.g. ``iBOTDataPreprocessor`` (host-made mask
            index: no sync in the step).
    """

    def __init__(self, backbone: dict, neck: dict, loss: dict,
                 separate_head: bool = False,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        self.separate_head = bool(separate_head)
        super().__init__(backbone=backbone,
                         neck=dinov2_neck(neck, self.separate_head),
                         loss=loss, data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)
        if not isinstance(self.ibot_loss, DINOv2Loss):
            raise TypeError(f'{type(self).__name__} needs loss=dict(type='
                            f"'DINOv2Loss', ...), got "
                            f'{type(self.ibot_loss).__name__}')

    def _distill(self, s_cls, s_patch, t_cls, t_patch, masks, mask_index,
                 t_patch_mean, s_tokens):
        """:class:`DINOv2Loss` with the student's global [CLS] backbone
        features (G*B, C) for KoLeo."""
        return self.ibot_loss(s_cls, s_patch, t_cls, t_patch, masks,
                              teacher_temp=self.teacher_temp,
                              teacher_patch_temp=self.teacher_patch_temp,
                              mask_index=mask_index,
                              teacher_patch_mean=t_patch_mean,
                              student_global_cls=s_tokens[:, 0])
