"""SIE through tools/train.py: the toy config for 2 iterations on a tiny
generated 3DIEBench-layout fixture (ThreeDIEBench, LoadViews, ApplyToViews,
PackInputs with rot_quat / color_diff, SelfSupDataPreprocessor)."""
import math
import os.path as osp
import re

import pytest
import torch

from tests.conftest import REPO, run_tool, train_cmd

pytestmark = pytest.mark.slow
TOY = osp.join(REPO, 'configs', 'sie',
               'sie_resnet18_1xb64-5e_toy-3diebench-64px.py')
TERMS = ('loss_inv', 'loss_equi', 'loss_var', 'loss_cov')


@pytest.fixture(scope='module')
def tiny_3diebench(tmp_path_factory) -> str:
    """2 classes x 2 objects x 3 views at 32 px, all objects in train."""
    from mmequi.datasets.toy_3d import make_toy_3diebench
    root = str(tmp_path_factory.mktemp('tiny_3diebench'))
    make_toy_3diebench(root, classes=2, objects_per_class=2, views=3,
                       size=32, val_fraction=0.0, workers=1)
    return root


def _values(out, key):
    return [float(x) for x in re.findall(rf'\s{key}: ([-0-9.naninf]+)', out)]


@pytest.mark.parametrize('condition', ['rot', 'rot_color'])
def test_sie_toy_config_trains_two_iterations(tiny_3diebench, tmp_path,
                                             condition):
    wd = str(tmp_path / 'wd')
    options = [
        f'train_dataloader.dataset.data_root={tiny_3diebench}',
        'train_dataloader.dataset.num_views=3',
        'train_dataloader.batch_size=2',  # 4 objects -> 2 iterations
        'train_dataloader.num_workers=0',
        'train_cfg.max_epochs=1',
        f'model.condition={condition}',
        f'model.predictor.group_dims={4 if condition == "rot" else 6}',
    ]
    out = run_tool(train_cmd(TOY, wd, options=options)).stdout
    assert 'ThreeDIEBench' in out
    for key in TERMS:
        values = _values(out, key)
        assert len(values) == 2, (key, out[-3000:])
        assert all(math.isfinite(v) and v >= 0 for v in values), key
    ckpt = osp.join(wd, 'epoch_1.pth')
    assert osp.isfile(ckpt)
    state = torch.load(ckpt, map_location='cpu',
                       weights_only=False)['state_dict']
    w = state['predictor.hypernet.layers.0.weight']
    assert w.shape[1] == (4 if condition == 'rot' else 6)
    assert 'inv_projector.layers.0.weight' in state
    assert state['inv_projector.layers.0.weight'].shape[1] == 256
    assert state['equi_projector.layers.0.weight'].shape[1] == 256


VIT_TOY = osp.join(REPO, 'configs', 'sie',
                   'sie_vit-tiny-p16_1xb8-4e_toy-shapes-64px_all.py')


def test_sie_theta_vit_toy_config_trains_two_iterations(toy_shapes_64,
                                                        tmp_path):
    """SIE(all) on a tiny ViT: ToyShapes + the VICReg two-view pipeline,
    EquiReconDataPreprocessor (compose g_θ, K = 0), 16 images / batch 8."""
    wd = str(tmp_path / 'wd')
    out = run_tool(train_cmd(VIT_TOY, wd, options=[
        f'train_dataloader.dataset.data_root={toy_shapes_64}',
        'train_cfg.max_epochs=1'])).stdout
    for key in TERMS:
        values = _values(out, key)
        assert len(values) == 2, (key, out[-3000:])
        assert all(math.isfinite(v) and v >= 0 for v in values), key
    state = torch.load(osp.join(wd, 'epoch_1.pth'), map_location='cpu',
                       weights_only=False)['state_dict']
    assert state['predictor.hypernet.layers.0.weight'].shape[1] == 8
    assert state['projector.layers.0.weight'].shape == (128, 64)
    assert not any(k.startswith('head.') for k in state)
