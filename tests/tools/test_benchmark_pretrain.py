"""tools/analysis_tools/benchmark_pretrain.py --breakdown on the tiny
iBOT + reconstruction config."""
import json
import os.path as osp
import sys

from ..conftest import run_tool

CFG = ('configs/equi_recon/'
       'ibot-equi_vit-tiny-p16_1xb8-4e_toy-shapes-64px_all-rot.py')
#: the components the method's step has (iBOTEquiRecon, d_equi > 0)
COMPONENTS = {'data_preprocessor', 'teacher_forward', 'student_backbone',
              'neck', 'ibot_loss', 'recon_head', 'backward',
              'optimizer_step'}


def test_breakdown_json(tmp_path):
    out = str(tmp_path / 'bench.json')
    proc = run_tool([sys.executable,
                     'tools/analysis_tools/benchmark_pretrain.py', CFG,
                     '--batch-size', '2', '--iters', '2', '--warmup', '1',
                     '--fp32', '--breakdown', '--json', out])
    assert osp.isfile(out), proc.stdout[-3000:]
    with open(out) as f:
        b = json.load(f)['breakdown']
    comps = b['components_ms']
    assert COMPONENTS <= set(comps), sorted(comps)
    assert all(v >= 0 for v in comps.values()), comps
    total = sum(comps.values())
    assert 0.5 * b['step_ms'] <= total <= 1.1 * b['step_ms'], (total, b)
    # the percentages and the remainder follow from the same numbers
    for k, v in comps.items():
        assert abs(b['components_pct'][k] - 100 * v / b['step_ms']) < 1e-6
    assert abs(b['unattributed_ms'] - (b['step_ms'] - total)) < 1e-6
    assert b['ema_update_ms'] is not None and b['ema_update_ms'] >= 0
    # the table is printed
    assert 'recon_head' in proc.stdout and 'unattributed' in proc.stdout
