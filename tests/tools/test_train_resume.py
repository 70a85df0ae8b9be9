"""End to end through tools/train.py and tools/test.py on generated data."""
import os.path as osp
import re
import sys

import pytest
import torch

from tests.conftest import (DEMO_CFG, data_root_options, run_tool,
                            train_cmd)

pytestmark = pytest.mark.slow


def _state(path):
    from mmequi.compat.checkpoint import load_checkpoint_file
    return load_checkpoint_file(path)


def _options(root, epochs):
    return data_root_options(root) + [
        f'train_cfg.max_epochs={epochs}', 'randomness.deterministic=True',
        'train_dataloader.batch_size=8', 'default_hooks.logger.interval=1']


def test_resume_equals_straight_run(toy_shapes, tmp_path):
    straight, resumed = str(tmp_path / 'straight'), str(tmp_path / 'resumed')
    run_tool(train_cmd(DEMO_CFG, straight, options=_options(toy_shapes, 3)))
    run_tool(train_cmd(DEMO_CFG, resumed, options=_options(toy_shapes, 2)))
    assert not osp.exists(osp.join(resumed, 'epoch_3.pth'))
    out = run_tool(
        train_cmd(DEMO_CFG, resumed, '--resume',
                  osp.join(resumed, 'epoch_2.pth'),
                  options=_options(toy_shapes, 3))).stdout
    assert 'resumed epoch: 2' in out

    a = _state(osp.join(straight, 'epoch_3.pth'))
    b = _state(osp.join(resumed, 'epoch_3.pth'))
    assert a['meta']['epoch'] == b['meta']['epoch'] == 3
    assert a['state_dict'].keys() == b['state_dict'].keys()
    for k in a['state_dict']:
        torch.testing.assert_close(a['state_dict'][k], b['state_dict'][k],
                                   rtol=0, atol=0, msg=k)
    # optimizer moments continue too, not only the weights
    sa, sb = a['optimizer']['state'], b['optimizer']['state']
    assert sa.keys() == sb.keys() and len(sa) > 0
    for k in sa:
        torch.testing.assert_close(sa[k]['exp_avg'], sb[k]['exp_avg'],
                                   rtol=0, atol=0)
    # and training actually changed the weights between epochs 2 and 3
    c = _state(osp.join(resumed, 'epoch_2.pth'))
    key = 'backbone.conv1.weight'
    assert not torch.equal(c['state_dict'][key], b['state_dict'][key])


def test_resume_refuses_code_carrying_checkpoint(toy_shapes, tmp_path):
    evil = tmp_path / 'evil.pth'
    marker = tmp_path / 'pwned'

    class Evil:
        def __reduce__(self):
            return (open, (str(marker), 'w'))

    torch.save({'state_dict': {}, 'meta': {'x': Evil()}}, str(evil))
    proc = run_tool(
        train_cmd(DEMO_CFG, str(tmp_path / 'wd'), '--resume', str(evil),
                  options=_options(toy_shapes, 1)), check=False)
    assert proc.returncode != 0
    assert 'UnsafeCheckpointError' in proc.stdout
    assert str(evil) in proc.stdout and 'io.open' in proc.stdout
    assert not marker.exists()


def test_amp_on_cpu_and_test_tool(toy_shapes, tmp_path):
    wd = str(tmp_path / 'amp')
    out = run_tool(
        train_cmd(DEMO_CFG, wd, '--amp', options=_options(toy_shapes, 1))
    ).stdout
    assert 'Training precision: torch.bfloat16 autocast (AmpOptimWrapper)' \
        in out
    losses = [float(x) for x in re.findall(r'\sloss: ([0-9.naninf]+)', out)]
    assert losses and all(torch.isfinite(torch.tensor(losses)))

    ckpt = osp.join(wd, 'epoch_1.pth')
    proc = run_tool([
        sys.executable, 'tools/test.py', DEMO_CFG, ckpt, '--work-dir', wd,
        '--out', osp.join(wd, 'preds.pkl'), '--cfg-options',
        *data_root_options(toy_shapes)
    ])
    m = re.search(r'accuracy/top1: ([0-9.]+)', proc.stdout)
    assert m is not None, proc.stdout[-2000:]
    assert 0.0 <= float(m.group(1)) <= 100.0
    assert osp.getsize(osp.join(wd, 'preds.pkl')) > 0


def test_bad_resume_path_is_a_clear_error(toy_shapes, tmp_path):
    missing = str(tmp_path / 'nope.pth')
    proc = run_tool(train_cmd(DEMO_CFG, str(tmp_path / 'wd'), '--resume',
                              missing, options=_options(toy_shapes, 1)),
                    check=False)
    assert proc.returncode != 0
    assert f'--resume {missing}: no such checkpoint file' in proc.stdout
