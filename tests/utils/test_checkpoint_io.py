"""mmequi.utils.checkpoint_io: every key layout gives the right tensors
(compared by value against the tensors written), teacher vs student, strict
diff errors that name the keys and the file, and the weights-only refusal
through the one entry point."""
import argparse
import pickle

import pytest
import torch
import torch.nn as nn
from mmengine.runner.checkpoint import CheckpointLoader

from mmequi.compat.checkpoint import UnsafeCheckpointError
from mmequi.utils.checkpoint_io import (MAX_LISTED, CheckpointMismatchError,
                                        backbone_prefix, check_keys,
                                        load_strict, locate_weights,
                                        read_checkpoint, select_weights)


def _net(seed: int) -> dict:
    """A backbone-like state dict with distinct values per seed."""
    g = torch.Generator().manual_seed(seed)
    return {'layers.0.weight': torch.randn(4, 3, generator=g),
            'layers.0.bias': torch.randn(4, generator=g),
            'ln1.weight': torch.randn(4, generator=g)}


def _prefixed(prefix: str, sd: dict) -> dict:
    return {prefix + k: v for k, v in sd.items()}


def _assert_same(got: dict, want: dict) -> None:
    assert sorted(got) == sorted(want)
    for k in want:
        assert torch.equal(got[k], want[k]), k


@pytest.fixture
def ibot_file(tmp_path):
    """An mmequi iBOT runner checkpoint written to disk: student and EMA
    teacher backbones and necks differ."""
    student, teacher = _net(0), _net(1)
    neck = {'layers.0.weight': torch.randn(2, 4)}
    state = {**_prefixed('backbone.', student),
             **_prefixed('teacher.backbone.', teacher),
             **_prefixed('teacher.neck.', neck),
             'teacher.backbone.mask_token': torch.zeros(1, 1, 4)}
    path = str(tmp_path / 'ibot.pth')
    torch.save(dict(state_dict=state, meta=dict(epoch=3)), path)
    return path, student, teacher, neck


def test_runner_checkpoint_teacher_student_and_prefixes(ibot_file):
    path, student, teacher, neck = ibot_file
    ckpt = read_checkpoint(path)
    assert ckpt['meta'] == dict(epoch=3)
    _assert_same(select_weights(ckpt, 'student', file=path), student)
    got, layout = locate_weights(ckpt, 'teacher', file=path)
    _assert_same(got, {**teacher, 'mask_token': torch.zeros(1, 1, 4)})
    assert layout == "['state_dict'] of an mmequi model, teacher.backbone.*"
    # explicit prefixes are literal
    _assert_same(select_weights(ckpt, 'teacher.neck.'), neck)
    _assert_same(select_weights(ckpt, 'backbone.'), student)
    assert backbone_prefix(ckpt) == 'teacher.backbone.'


def test_runner_checkpoint_without_teacher(tmp_path):
    """VICReg / SIE: 'teacher' is an error that says what to do."""
    student = _net(2)
    path = str(tmp_path / 'vicreg.pth')
    torch.save(dict(state_dict=_prefixed('backbone.', student)), path)
    ckpt = read_checkpoint(path)
    _assert_same(select_weights(ckpt, 'student'), student)
    assert backbone_prefix(ckpt, file=path) == 'backbone.'
    with pytest.raises(CheckpointMismatchError,
                       match=r'vicreg\.pth: has backbone\.\* but no '
                       r'teacher\.backbone\.\*.*--source student'):
        select_weights(ckpt, 'teacher', file=path)


def test_official_ibot_layout_and_ddp_prefix(tmp_path):
    """{'teacher': {backbone.*}, 'student': {module.backbone.*}}."""
    student, teacher = _net(3), _net(4)
    ckpt = {'teacher': {**_prefixed('backbone.', teacher),
                        'head.last_layer.weight': torch.ones(2)},
            'student': _prefixed('module.backbone.', student),
            'epoch': 100}
    got, layout = locate_weights(ckpt, 'teacher')
    _assert_same(got, teacher)  # head.* is not under backbone.
    assert layout == "official iBOT/DINO checkpoint ['teacher']"
    _assert_same(select_weights(ckpt, 'student'), student)
    # a DDP-wrapped runner state dict: module. removed as mmengine does
    ddp = {'state_dict': _prefixed('module.backbone.', student)}
    _assert_same(select_weights(ddp, 'backbone.'), student)
    _assert_same(select_weights(ddp, 'student'), student)


def test_backbone_exports_and_timm_dicts(tmp_path):
    """Backbone-only dicts (our export: mmpretrain ViT keys; timm under
    'model') are returned as they are for either role and for ''."""
    sd = {'cls_token': torch.randn(1, 1, 4), 'pos_embed': torch.randn(1, 5, 4),
          'patch_embed.projection.weight': torch.randn(4, 3, 2, 2),
          'layers.0.attn.qkv.weight': torch.randn(12, 4),
          'ln1.weight': torch.randn(4)}
    path = str(tmp_path / 'export.pth')
    torch.save({'state_dict': sd, 'meta': {'format': 'mmpretrain'}}, path)
    ckpt = read_checkpoint(path)
    for source in ('teacher', 'student', ''):
        _assert_same(select_weights(ckpt, source, file=path), sd)
    timm = {'model': {'blocks.0.norm1.weight': torch.randn(4)}}
    got, layout = locate_weights(timm, 'teacher')
    _assert_same(got, timm['model'])
    assert layout == "['model']"


def test_absent_source_lists_what_is_there(ibot_file):
    path, *_ = ibot_file
    ckpt = read_checkpoint(path)
    with pytest.raises(CheckpointMismatchError) as err:
        select_weights(ckpt, 'student.', file=path, hint='try teacher.')
    msg = str(err.value)
    assert path in msg and "source='student.'" in msg
    for prefix in ("'backbone.'", "'teacher.'", "'teacher.backbone.'",
                   "'teacher.neck.'"):
        assert prefix in msg
    assert msg.endswith('. try teacher.')
    assert isinstance(err.value, KeyError) and isinstance(err.value,
                                                          ValueError)
    with pytest.raises(ValueError, match="ending with '.'"):
        select_weights(ckpt, 'teacher.backbone')
    with pytest.raises(CheckpointMismatchError, match='no teacher.backbone'):
        backbone_prefix({'state_dict': {'head.w': torch.ones(1)}}, file='x')


def test_load_strict_loads_the_values_and_ignores_listed_keys(ibot_file):
    path, _, teacher, _ = ibot_file
    net = nn.Module()
    net.layers = nn.Sequential(nn.Linear(3, 4))
    net.ln1 = nn.LayerNorm(4, bias=False)
    state = select_weights(read_checkpoint(path), 'teacher', file=path)
    with pytest.raises(CheckpointMismatchError,
                       match=r"1 unexpected keys \['mask_token'\]"):
        load_strict(net, state, file=path)
    n = load_strict(net, state, file=path, ignore_unexpected=('mask_token',))
    assert n == 3
    assert torch.equal(net.layers[0].weight, teacher['layers.0.weight'])
    assert torch.equal(net.layers[0].bias, teacher['layers.0.bias'])
    assert torch.equal(net.ln1.weight, teacher['ln1.weight'])


def test_diff_errors_name_keys_shapes_and_file():
    expected = {f'k{i:02d}': torch.zeros(2) for i in range(12)}
    expected['w'] = torch.zeros(3, 4)
    given = {'w': torch.zeros(4, 3), 'extra.a': torch.zeros(1),
             'k00': torch.zeros(2)}
    with pytest.raises(CheckpointMismatchError) as err:
        check_keys(expected, given, file='/ckpts/a.pth', what='the ViT',
                   prefix='backbone.', hint='export it first')
    msg = str(err.value)
    assert msg.startswith("/ckpts/a.pth (prefix 'backbone.') does not fit "
                          'the ViT: ')
    # 11 missing keys, listed up to MAX_LISTED
    shown = [f'k{i:02d}' for i in range(1, 1 + MAX_LISTED)]
    assert f'11 missing keys {repr(shown)[:-1]}, ... +3 more]' in msg
    assert "1 unexpected keys ['extra.a']" in msg
    assert "1 shape mismatches ['w': checkpoint (4, 3) vs model (3, 4)]" \
        in msg
    assert msg.endswith('. export it first')
    # unexpected keys allowed, resizable shapes not compared: only missing
    with pytest.raises(CheckpointMismatchError) as err:
        check_keys(expected, given, file='a.pth', what='m',
                   allow_unexpected=True, resizable=('w', ))
    assert 'unexpected' not in str(err.value)
    assert 'shape' not in str(err.value)
    check_keys({'w': torch.zeros(3)}, {'w': torch.ones(3)}, file='f',
               what='m')  # a fit raises nothing


def test_vit_pos_embed_resized_only_when_allowed(tmp_path):
    """mmpretrain's ViT resizes pos_embed on load: with resizable the
    other tensors load exactly; without, the grid change is an error."""
    from mmpretrain.models import VisionTransformer
    arch = dict(embed_dims=8, num_layers=1, num_heads=2,
                feedforward_channels=16)
    torch.manual_seed(0)
    src = VisionTransformer(arch=arch, img_size=32, patch_size=16)
    dst = VisionTransformer(arch=arch, img_size=64, patch_size=16)
    path = str(tmp_path / 'vit.pth')
    torch.save({'state_dict': _prefixed('backbone.', src.state_dict())},
               path)
    state = select_weights(read_checkpoint(path), 'student', file=path)
    with pytest.raises(CheckpointMismatchError,
                       match=r"'pos_embed': checkpoint \(1, 5, 8\) vs model "
                       r'\(1, 17, 8\)'):
        load_strict(dst, state, file=path)
    load_strict(dst, state, file=path, resizable=('pos_embed', ))
    assert torch.equal(dst.layers[0].attn.qkv.weight,
                       src.layers[0].attn.qkv.weight)
    assert torch.equal(dst.cls_token, src.cls_token)
    assert dst.pos_embed.shape == (1, 17, 8)


def test_unsafe_pickle_refused_and_trust_pickle_opt_in(tmp_path):
    path = str(tmp_path / 'official.pth')
    torch.save({'teacher': _prefixed('backbone.', _net(5)),
                'args': argparse.Namespace(arch='vit_small')}, path)
    with pytest.raises(UnsafeCheckpointError,
                       match=r'official\.pth.*argparse\.Namespace'):
        read_checkpoint(path)
    assert issubclass(UnsafeCheckpointError, pickle.UnpicklingError)
    ckpt = read_checkpoint(path, trust_pickle=True)
    assert ckpt['args'].arch == 'vit_small'
    _assert_same(select_weights(ckpt, 'teacher'), _net(5))
    with pytest.raises(ValueError, match='local files only'):
        read_checkpoint('https://example.com/x.pth', trust_pickle=True)
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        read_checkpoint(str(tmp_path / 'nope.pth'))
    torch.save([torch.ones(1)], path)
    with pytest.raises(TypeError, match='expected a dict checkpoint'):
        read_checkpoint(path)


def test_every_scheme_goes_through_checkpoint_loader():
    """A URL scheme registered with mmengine is what read_checkpoint uses."""
    calls = []

    def load(filename, map_location=None):
        calls.append((filename, map_location))
        return {'state_dict': _prefixed('backbone.', _net(6))}

    CheckpointLoader.register_scheme(prefixes='mmequitest://', force=True)(
        load)
    try:
        ckpt = read_checkpoint('mmequitest://a/b.pth')
    finally:
        CheckpointLoader._schemes.pop('mmequitest://')
    assert calls == [('mmequitest://a/b.pth', 'cpu')]
    _assert_same(select_weights(ckpt, 'student'), _net(6))
