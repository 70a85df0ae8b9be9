"""Checkpoints written before EquiReconHead (``decoders.*``) load into the
new layout (``head.decoders.*``) bit-identically, for both algorithms and
through mmengine's checkpoint loader; the backbone export is unchanged."""
import pytest
import torch
from mmengine.runner.checkpoint import load_checkpoint

from mmequi.models.utils.equi_recon import rename_legacy_head_keys
from mmequi.models.utils.vit_convert import extract_backbone
from tests.models.algorithms import test_ibot_equi_recon as ibot_test
from tests.models.algorithms import test_vicreg_equi_recon as vicreg_test

TOPK = dict(type='EasySampleRescue', ratio=0.5)


def old_layout(state: dict) -> dict:
    """The state dict as the algorithms wrote it before the head: the head's
    submodules were attributes of the algorithm itself."""
    old = {}
    for key, value in state.items():
        assert not key.startswith(('decoders.', 'recon_loss.', 'topk.'))
        old[key[len('head.'):] if key.startswith('head.') else key] = value
    return old


def perturbed(model) -> dict:
    """A state dict unlike a fresh model's (every float tensor moved)."""
    return {k: v + 0.5 if v.is_floating_point() else v
            for k, v in model.state_dict().items()}


@pytest.mark.parametrize('build', [ibot_test.build, vicreg_test.build])
def test_old_checkpoint_loads_bit_identically(build, tmp_path):
    source = build(topk=TOPK)
    state = perturbed(source)
    old = old_layout(state)
    assert any(k.startswith('decoders.0.') for k in old)
    assert not any(k.startswith('head.') for k in old)

    target = build(topk=TOPK)
    result = target.load_state_dict(dict(old), strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    loaded = target.state_dict()
    assert loaded.keys() == state.keys()
    for key, value in state.items():
        assert torch.equal(loaded[key], value), key

    # the runner's path (mmengine.runner.checkpoint.load_checkpoint)
    path = str(tmp_path / 'old.pth')
    torch.save({'state_dict': old, 'meta': {}}, path)
    target = build(topk=TOPK)
    load_checkpoint(target, path, map_location='cpu', strict=True)
    for key, value in target.state_dict().items():
        assert torch.equal(value, state[key]), key


def test_backbone_export_is_the_same_for_both_layouts():
    state = perturbed(ibot_test.build())
    for source in ('teacher', 'student'):
        new, _ = extract_backbone({'state_dict': state}, source)
        old, _ = extract_backbone({'state_dict': old_layout(state)}, source)
        assert new.keys() == old.keys() and new
        assert all(torch.equal(new[k], old[k]) for k in new)


def test_rename_only_touches_the_old_head_parts_and_refuses_mixtures():
    t = torch.zeros(1)
    state = {'m.decoders.0.w': t, 'm.recon_loss.x': t, 'm.topk.y': t,
             'm.backbone.decoders.z': t, 'm.neck.topk.q': t, 'other.w': t}
    rename_legacy_head_keys(torch.nn.Module(), state, 'm.')
    assert set(state) == {'m.head.decoders.0.w', 'm.head.recon_loss.x',
                          'm.head.topk.y', 'm.backbone.decoders.z',
                          'm.neck.topk.q', 'other.w'}
    mixed = {'decoders.0.w': t, 'head.decoders.0.w': t}
    with pytest.raises(KeyError, match='mixes two layouts'):
        rename_legacy_head_keys(torch.nn.Module(), mixed, '')


@pytest.mark.parametrize('build', [ibot_test.build, vicreg_test.build])
def test_a_head_without_d_equi_is_an_error(build):
    with pytest.raises(ValueError, match=r"EquiRecon needs head=dict\("):
        build(head=dict(type='EquiReconHead'))
