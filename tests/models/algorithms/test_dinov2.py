"""DINOv2 algorithm: heads (shared / separate), teacher, KoLeo input, the
step against a reference computation (all-token teacher, separate head
calls, full local-crop forward, then the loop-checked DINOv2Loss)."""
import copy

import pytest
import torch
from mmengine.registry import init_default_scope
from mmpretrain.registry import MODELS

from tests.conftest import loss_terms, total_loss
from tests.models.algorithms.test_ibot import (G, K, L, all_token_teacher,
                                               assert_same_step, batch,
                                               separate_student_cls)

KEYS = {'loss_cls', 'loss_patch', 'loss_koleo'}


def model_cfg(separate_head=False, centering='sinkhorn_knopp',
              registers=0, drop_path=0.0, **loss):
    return dict(
        type='DINOv2', separate_head=separate_head,
        data_preprocessor=dict(type='iBOTDataPreprocessor',
                               mean=[123.675, 116.28, 103.53],
                               std=[58.395, 57.12, 57.375], to_rgb=False),
        backbone=dict(type='iBOTViT',
                      arch=dict(embed_dims=32, num_layers=2, num_heads=2,
                                feedforward_channels=64),
                      img_size=32, patch_size=8, drop_path_rate=drop_path,
                      num_register_tokens=registers,
                      layer_scale_init_value=1e-5),
        neck=dict(type='iBOTNeck', in_channels=32, hidden_channels=48,
                  bottleneck_channels=16, out_channels=K),
        loss=dict(type='DINOv2Loss', out_dim=K, patch_out_dim=K,
                  num_global=G, num_local=L, centering=centering, **loss))


def tiny_dinov2(**kw):
    init_default_scope('mmpretrain')
    torch.manual_seed(0)
    model = MODELS.build(model_cfg(**kw))
    model.init_weights()
    model.teacher_temp = model.teacher_patch_temp = 0.04
    return model


def reference_dinov2_loss(model, inputs, data_samples):
    """The step written out directly: the teacher's heads on every token,
    separate student head calls, local crops through the full backbone,
    KoLeo on the student's global [CLS] backbone features."""
    globals_, locals_, masks = model._split_views(inputs, data_samples)
    t_cls, t_patch = all_token_teacher(model, globals_)
    s = model.backbone(globals_, mask=masks)
    s_cls = separate_student_cls(model, s, locals_)
    s_patch = model.neck.forward_patch(s[:, 1:][masks])
    return model.ibot_loss(s_cls, s_patch, t_cls, t_patch, masks,
                           teacher_temp=model.teacher_temp,
                           teacher_patch_temp=model.teacher_patch_temp,
                           student_global_cls=s[:, 0])


@pytest.mark.parametrize('separate_head', [False, True])
@pytest.mark.parametrize('centering', ['sinkhorn_knopp', 'centering'])
def test_step_equals_the_reference_computation(separate_head, centering):
    model = tiny_dinov2(separate_head=separate_head, centering=centering,
                        registers=2)
    ref = copy.deepcopy(model)
    data = model.data_preprocessor(batch(), True)
    got = model(**data, mode='loss')
    expected = reference_dinov2_loss(ref, **data)
    assert set(loss_terms(got)) == KEYS
    assert_same_step(model, ref, got, expected, torch.float32)


def test_bf16_autocast_step_equals_the_reference_computation():
    """The recipes' bf16 autocast: the losses run in fp32 (Sinkhorn-Knopp,
    KoLeo), the step matches the reference within bf16 rounding."""
    model = tiny_dinov2(separate_head=True)
    ref = copy.deepcopy(model)
    data = model.data_preprocessor(batch(), True)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        got = model(**data, mode='loss')
        expected = reference_dinov2_loss(ref, **data)
    assert all(v.dtype == torch.float32 for v in loss_terms(got).values())
    assert_same_step(model, ref, got, expected, torch.bfloat16)


def test_separate_heads_get_only_their_loss():
    model = tiny_dinov2(separate_head=True)
    neck = model.neck
    assert type(neck).__name__ == 'SeparateHeadsNeck'
    assert {k.split('.')[0] for k in neck.state_dict()} == {'cls_head',
                                                             'patch_head'}
    data = model.data_preprocessor(batch(), True)
    model(**data, mode='loss')['loss_patch'].backward()
    assert all(p.grad is None or not p.grad.any()
               for p in neck.cls_head.parameters())
    assert neck.patch_head.mlp[0].weight.grad.abs().sum() > 0
    # the teacher has the same layout, and the EMA pairs cover both heads
    teacher, student = model._param_pairs()
    assert len(teacher) == len(list(model.backbone.parameters())) + len(
        list(neck.parameters()))


def test_koleo_reads_the_student_global_cls_backbone_features(monkeypatch):
    model = tiny_dinov2()
    seen = {}
    forward = type(model.ibot_loss).forward

    def spy(self, *args, **kwargs):
        seen['x'] = kwargs['student_global_cls'].detach()
        return forward(self, *args, **kwargs)

    monkeypatch.setattr(type(model.ibot_loss), 'forward', spy)
    data = model.data_preprocessor(batch(), True)
    model(**data, mode='loss')
    globals_, _, masks = model._split_views(data['inputs'],
                                            data['data_samples'])
    with torch.no_grad():
        expected = model.backbone(globals_, mask=masks)[:, 0]
    torch.testing.assert_close(seen['x'], expected)


def test_teacher_has_no_gradient_and_no_drop_path():
    model = tiny_dinov2(drop_path=0.1, separate_head=True)
    assert model.teacher.backbone.layers[1].ffn.dropout_layer.drop_prob == 0
    model.train()
    data = model.data_preprocessor(batch(), True)
    total_loss(model(**data, mode='loss')).backward()
    assert all(p.grad is None for p in model.teacher.parameters())


def test_configuration_errors():
    init_default_scope('mmpretrain')
    cfg = model_cfg()
    cfg['loss']['type'] = 'iBOTLoss'
    for key in ('centering',):
        cfg['loss'].pop(key)
    with pytest.raises(TypeError, match='DINOv2Loss'):
        MODELS.build(cfg)
    cfg = model_cfg()
    cfg['neck']['shared_head'] = False
    with pytest.raises(ValueError, match='shared_head'):
        MODELS.build(cfg)
    cfg = model_cfg()
    cfg['neck']['type'] = 'MLPNeck'
    with pytest.raises(ValueError, match='iBOTNeck'):
        MODELS.build(cfg)
