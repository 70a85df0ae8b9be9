"""configs/simclr and configs/vicreg: the plain baselines of the paper's
Tables 1, 4 and 5 differ from their "+ ours" configs in exactly the keys
that switch the method off (configs/simclr/_base_/plain.py), and build to
the plain method: no decoders, no g_θ on view 2, the whole embedding in the
base loss."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from tests.conftest import REPO
from tests.tools.test_print_config_diff import pcd

OURS = osp.join(REPO, 'configs', 'equi_recon')
#: baseline -> its "+ ours" config
PAIRS = {
    'simclr/simclr_vit-large-p16_32xb32-amp-coslr-100e_in1k.py':
    'simclr-equi_vit-large-p16_32xb32-amp-coslr-100e_in1k_all-rot.py',
    'simclr/simclr_vit-small-p16_8xb128-amp-coslr-100e_in1k.py':
    'simclr-equi_vit-small-p16_8xb128-amp-coslr-100e_in1k_all-rot.py',
    'vicreg/vicreg_vit-small-p16_16xb128-amp-coslr-800e_in1k.py':
    'vicreg-equi_vit-small-p16_16xb128-amp-coslr-800e_in1k_all-rot.py',
}
#: the documented difference (README of configs/simclr)
METHOD_OFF = [
    '.method_off: added',  # the helper that carries the keys below
    '.model.data_preprocessor.num_intermediate: 2 -> 0',
    '.model.data_preprocessor.transform.max_angle: removed 45.0',
    '.model.data_preprocessor.transform.type: "rotation" -> "identity"',
    '.model.head.d_equi: 256 -> 0',
]


def test_every_baseline_config_is_listed():
    found = {osp.relpath(p, osp.join(REPO, 'configs'))
             for d in ('simclr', 'vicreg')
             for p in glob.glob(osp.join(REPO, 'configs', d, '*.py'))}
    assert found == set(PAIRS)


@pytest.mark.parametrize('base', sorted(PAIRS))
def test_baseline_differs_from_ours_in_the_method_keys_only(base):
    plain = Config.fromfile(osp.join(REPO, 'configs', base)).to_dict()
    ours = Config.fromfile(osp.join(OURS, PAIRS[base])).to_dict()
    lines = pcd.key_diffs(ours, plain)
    assert [x if not x.startswith('.method_off') else '.method_off: added'
            for x in lines] == METHOD_OFF


@pytest.mark.parametrize('base', sorted(PAIRS))
def test_baseline_builds_to_the_plain_method(base):
    cfg = Config.fromfile(osp.join(REPO, 'configs', base))
    init_default_scope('mmpretrain')
    model = MODELS.build(cfg.model)
    assert model.head.d_equi == 0 and not hasattr(model.head, 'decoders')
    assert model.k_inv == model.neck.out_channels == 512
    pre = model.data_preprocessor
    assert pre.param_transform.name == 'identity'
    assert pre.num_intermediate == 0
    if 'vicreg' in base:
        assert model.expander.layers[0].in_features == 512


def test_plain_simclr_step_sees_unchanged_views():
    """The tiny SimCLR + ours config with the plain keys: one loss term,
    and view 2 is only normalised (no g_θ)."""
    cfg = Config.fromfile(osp.join(
        OURS, 'simclr-equi_vit-tiny-p16_1xb8-4e_toy-shapes-64px_all-rot.py'))
    cfg.merge_from_dict(dict(model=Config.fromfile(osp.join(
        REPO, 'configs', 'simclr', '_base_', 'plain.py')).method_off))
    init_default_scope('mmpretrain')
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    g = torch.Generator().manual_seed(0)
    raw = [torch.randint(0, 256, (4, 3, 64, 64), generator=g,
                         dtype=torch.uint8) for _ in range(2)]
    data = model.data_preprocessor(
        dict(inputs=[v.clone() for v in raw],
             data_samples=[DataSample() for _ in range(4)]), True)
    mean = torch.tensor([123.675, 116.28, 103.53]).view(3, 1, 1)
    std = torch.tensor([58.395, 57.12, 57.375]).view(3, 1, 1)
    for v, r in zip(data['inputs']['views'], raw):
        torch.testing.assert_close(v, (r.float() - mean) / std)
    losses = model(**data, mode='loss')
    assert set(losses) == {'loss_infonce'}
    assert torch.isfinite(losses['loss_infonce'])
