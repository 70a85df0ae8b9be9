"""ViT key conversion: every format loads strictly AND computes the same
function (forward outputs compared), extraction from each checkpoint
layout, cls-token dropping."""
import pytest
import torch

from mmequi.models.utils.vit_convert import (convert_vit_keys,
                                             detect_vit_format,
                                             drop_cls_token, extract_backbone,
                                             vit_arch)

# a 2-block ViT keeps the forward comparisons fast; key patterns are
# per-block, so depth does not matter
DIMS, DEPTH, HEADS = 64, 2, 4


def mmpre_vit(**kw):
    from mmpretrain.models import VisionTransformer
    arch = dict(embed_dims=DIMS, num_layers=DEPTH, num_heads=HEADS,
                feedforward_channels=4 * DIMS)
    model = VisionTransformer(arch=arch, img_size=32, patch_size=16, **kw)
    model.eval()  # (mmpretrain BaseBackbone.train returns None)
    return model


def timm_vit():
    from timm.models.vision_transformer import VisionTransformer
    return VisionTransformer(img_size=32, patch_size=16, embed_dim=DIMS,
                             depth=DEPTH, num_heads=HEADS, num_classes=0)


def mmseg_vit(**kw):
    from mmseg.models.backbones import VisionTransformer
    return VisionTransformer(img_size=32, patch_size=16, embed_dims=DIMS,
                             num_layers=DEPTH, num_heads=HEADS,
                             out_indices=DEPTH - 1, final_norm=True,
                             norm_cfg=dict(type='LN', eps=1e-6), **kw)


@pytest.fixture(scope='module')
def source():
    torch.manual_seed(0)
    model = mmpre_vit(out_type='raw')
    for p in model.parameters():  # non-trivial norms and biases
        p.data.add_(0.05 * torch.randn_like(p))
    return model


def test_timm_same_function(source):
    sd = convert_vit_keys(source.state_dict(), 'mmpretrain', 'timm')
    target = timm_vit().eval()
    target.load_state_dict(sd, strict=True)
    x = torch.randn(2, 3, 32, 32)
    torch.testing.assert_close(target.forward_features(x), source(x)[0],
                               atol=1e-5, rtol=1e-4)
    back = convert_vit_keys(sd, 'timm', 'mmpretrain')
    assert back.keys() == source.state_dict().keys()


def test_mmseg_same_function(source):
    sd = convert_vit_keys(source.state_dict(), 'mmpretrain', 'mmseg')
    target = mmseg_vit(patch_bias=True)
    target.eval()
    target.load_state_dict(sd, strict=True)
    feat = mmpre_vit(out_type='featmap')
    feat.load_state_dict(source.state_dict(), strict=True)
    x = torch.randn(2, 3, 32, 32)
    torch.testing.assert_close(target(x)[0], feat(x)[0], atol=1e-5,
                               rtol=1e-4)
    # mmseg's default patch_bias=False: the bias is the one unexpected key
    res = mmseg_vit().load_state_dict(sd, strict=False)
    assert res.missing_keys == []
    assert res.unexpected_keys == ['patch_embed.projection.bias']


def test_unknown_key_is_an_error(source):
    sd = dict(source.state_dict(), **{'head.fc.weight': torch.zeros(1)})
    with pytest.raises(KeyError, match='head.fc.weight'):
        convert_vit_keys(sd, 'mmpretrain', 'timm')
    with pytest.raises(ValueError, match='format'):
        convert_vit_keys(sd, 'mmpretrain', 'beit')


def test_detect_format(source):
    sd = source.state_dict()
    assert detect_vit_format(sd) == 'mmpretrain'
    assert detect_vit_format(convert_vit_keys(sd, 'mmpretrain', 'timm')) \
        == 'timm'
    assert detect_vit_format(convert_vit_keys(sd, 'mmpretrain', 'mmseg')) \
        == 'mmseg'
    with pytest.raises(ValueError, match='not a ViT'):
        detect_vit_format(['conv1.weight'])


def _prefixed(sd, prefix):
    return {prefix + k: v for k, v in sd.items()}


def test_extract_mmequi_teacher_and_student(source):
    sd = source.state_dict()
    student = {k: v + 1 for k, v in sd.items()}
    ckpt = {'state_dict': {**_prefixed(sd, 'teacher.backbone.'),
                           **_prefixed(student, 'backbone.'),
                           'backbone.mask_token': torch.zeros(1, 1, DIMS),
                           'teacher.backbone.mask_token':
                               torch.zeros(1, 1, DIMS),
                           'neck.head.weight': torch.zeros(3)},
            'meta': {'epoch': 3}}
    out, info = extract_backbone(ckpt, 'teacher')
    assert out.keys() == sd.keys()
    assert all(torch.equal(out[k], sd[k]) for k in sd)
    assert info['dropped_keys'] == ['mask_token']
    out, _ = extract_backbone(ckpt, 'student')
    assert all(torch.equal(out[k], student[k]) for k in sd)


def test_extract_without_teacher_needs_student(source):
    ckpt = {'state_dict': _prefixed(source.state_dict(), 'backbone.')}
    with pytest.raises(KeyError, match='--source student'):
        extract_backbone(ckpt, 'teacher')
    out, _ = extract_backbone(ckpt, 'student')
    assert out.keys() == source.state_dict().keys()


def test_extract_official_ibot_dino(source):
    """Official iBOT/DINO full checkpoints: teacher/student dicts, timm keys,
    student under DDP's module. prefix, iBOT's masked_embed, DINO heads."""
    timm_sd = convert_vit_keys(source.state_dict(), 'mmpretrain', 'timm')
    ckpt = {'teacher': {**_prefixed(timm_sd, 'backbone.'),
                        'head.mlp.0.weight': torch.zeros(2, 2)},
            'student': {**_prefixed(timm_sd, 'module.backbone.'),
                        'module.backbone.masked_embed': torch.zeros(1, DIMS),
                        'module.head.mlp.0.weight': torch.zeros(2, 2)},
            'epoch': 100}
    for src in ('teacher', 'student'):
        out, info = extract_backbone(ckpt, src)
        assert out.keys() == source.state_dict().keys()
        assert info['source_format'] == 'timm'
    assert info['dropped_keys'] == ['masked_embed']
    # released backbone-only files: bare timm dict / {'state_dict': timm}
    for ckpt in (timm_sd, {'state_dict': timm_sd}, {'model': timm_sd}):
        out, _ = extract_backbone(dict(ckpt), 'teacher')
        assert out.keys() == source.state_dict().keys()


def test_timm_classifier_head_dropped(source):
    timm_sd = convert_vit_keys(source.state_dict(), 'mmpretrain', 'timm')
    timm_sd['head.weight'] = torch.zeros(10, DIMS)
    out, info = extract_backbone(timm_sd)
    assert info['dropped_keys'] == ['head.weight']
    assert 'head.weight' not in out


def test_drop_cls_token_loads_into_no_cls_backbone(source):
    """ViTPose-style backbone (with_cls_token=False, another grid): the
    plain export fails mmpretrain's pos-embed resize, the dropped one loads
    strictly with exactly the resized patch grid."""
    sd = source.state_dict()
    no_cls = drop_cls_token(sd)
    assert 'cls_token' not in no_cls
    assert no_cls['pos_embed'].shape == (1, 4, DIMS)
    torch.testing.assert_close(no_cls['pos_embed'], sd['pos_embed'][:, 1:])
    from mmpretrain.models import VisionTransformer
    arch = dict(embed_dims=DIMS, num_layers=DEPTH, num_heads=HEADS,
                feedforward_channels=4 * DIMS)
    pose = VisionTransformer(arch=arch, img_size=(64, 48), patch_size=16,
                             with_cls_token=False, out_type='featmap')
    res = pose.load_state_dict(dict(no_cls), strict=True)
    assert not res.missing_keys and not res.unexpected_keys
    assert pose.pos_embed.shape == (1, 12, DIMS)
    with pytest.raises(Exception):
        pose.load_state_dict(dict(sd), strict=True)
    with pytest.raises(ValueError, match='square'):
        drop_cls_token(no_cls)


def test_vit_arch(source):
    assert vit_arch(source.state_dict()) == dict(
        embed_dims=DIMS, num_layers=DEPTH, patch_size=16, pos_embed_tokens=5)
