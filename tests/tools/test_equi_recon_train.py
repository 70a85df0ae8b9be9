"""The method's variants through tools/train.py on generated images."""
import glob
import math
import os.path as osp
import re

import pytest

from tests.conftest import REPO, run_tool, train_cmd

pytestmark = pytest.mark.slow
IBOT = osp.join(REPO, 'configs', 'equi_recon',
                'ibot-equi_vit-tiny-p16_1xb8-4e_toy-shapes-64px_all-rot.py')
VICREG = osp.join(REPO, 'configs', 'equi_recon',
                  'vicreg-equi_vit-tiny-p16_1xb8-4e_toy-shapes-64px_all-rot.py')
SIMCLR = osp.join(REPO, 'configs', 'equi_recon',
                  'simclr-equi_vit-tiny-p16_1xb8-4e_toy-shapes-64px_all-rot.py')
DINOV2 = osp.join(REPO, 'configs', 'equi_recon',
                  'dinov2-equi_vit-tiny-p16_1xb8-4e_toy-shapes-64px_all-rot.py')


def _losses(out, key):
    return [float(x) for x in re.findall(rf'\s{key}: ([-0-9.naninf]+)', out)]


TARGET = 'model.data_preprocessor.transform.type='


@pytest.mark.parametrize('config,extra', [
    (IBOT, []),
    (IBOT, [TARGET + 'color']),
    (IBOT, [TARGET + 'blur']),
    (IBOT, [TARGET + 'translation']),
    (IBOT, [TARGET + 'se2', 'model.head.decoder.type=CrossAttnReconDecoder',
            'model.head.decoder.embed_dims=32',
            'model.head.decoder.num_heads=2',
            'model.head.topk.type=EasySampleRescue']),
    (VICREG, [TARGET + 'color', 'model.head.topk.type=EasySampleRescue']),
    (SIMCLR, []),
    (DINOV2, []),
], ids=['ibot-rot', 'ibot-color', 'ibot-blur', 'ibot-trans',
        'ibot-se2-crossattn-topk', 'vicreg-color-topk', 'simclr-rot',
        'dinov2-rot'])
def test_variant_trains(toy_shapes_64, tmp_path, config, extra):
    wd = str(tmp_path / 'wd')
    out = run_tool(train_cmd(config, wd, options=[
        f'train_dataloader.dataset.data_root={toy_shapes_64}',
        'train_cfg.max_epochs=1', *extra])).stdout
    kind = (extra[0].split('=')[1] if extra else 'rotation')
    assert f"'type': '{kind}'" in out or f"type='{kind}'" in out
    recon = _losses(out, 'loss_recon')
    assert len(recon) == 2  # 16 images / batch 8
    assert all(0 < v < 100 for v in recon)
    if config == SIMCLR:
        nce = _losses(out, 'loss_infonce')
        # 2 iterations; about log(2B - 1) = log 15 for a fresh model
        assert len(nce) == 2 and all(0 < v < 10 for v in nce)
    if config == DINOV2:
        for key in ('loss_cls', 'loss_patch', 'loss_koleo'):
            values = _losses(out, key)
            assert len(values) == 2 and all(map(math.isfinite, values)), key
    if 'topk' in ' '.join(extra):
        assert len(_losses(out, 'loss_topk')) == 2
    pngs = glob.glob(osp.join(wd, '*', 'vis_data', 'vis_image',
                              'recon_*.png'))
    assert pngs, 'ReconVisualizationHook wrote no grid'
    assert osp.isfile(osp.join(wd, 'epoch_1.pth'))
