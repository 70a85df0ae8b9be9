"""tools/analysis_tools/benchmark_table.py (the Python side of
gpu_benchmark.sh) at a tiny size on CPU: the interleaving, the derived
columns recomputed from the recorded step times, the official-iBOT entry
(a fake official tree) and the data-column hook."""
import json
import re
import os.path as osp
import subprocess
import sys

import pytest

from ..conftest import REPO, run_tool
from .test_official_ibot_step import load_tool as load_official_tool
from .test_official_ibot_step import make_fake_ibot

TOOL = 'tools/analysis_tools/benchmark_table.py'
IBOT = 'configs/ibot/ibot_vit-tiny-p16_1xb8-4e_toy-shapes-64px.py'
OURS = ('configs/equi_recon/'
        'ibot-equi_vit-tiny-p16_1xb8-4e_toy-shapes-64px_all-rot.py')


def load_tool():
    return load_official_tool(TOOL)


def test_gpu_script_and_configs():
    """gpu_benchmark.sh parses and calls this tool; its configs exist."""
    script = osp.join(REPO, 'tools/analysis_tools/gpu_benchmark.sh')
    subprocess.run(['bash', '-n', script], check=True)
    with open(script) as f:
        text = f.read()
    assert 'benchmark_table.py' in text and 'benchmark_data.py' in text
    named = re.findall(r'configs/[\w/.-]+\.py', text)
    assert len(named) >= 3
    for path in named:  # every config the script names exists
        assert osp.isfile(osp.join(REPO, path)), path
    for _, ibot, ours, _ in load_tool().MODELS.values():
        assert osp.isfile(osp.join(REPO, ibot)), ibot
        assert osp.isfile(osp.join(REPO, ours)), ours


def test_interleaved_order():
    tool = load_tool()
    calls = []
    entries = [tool.Entry(k, k, 'cfg', 'fp32', 1,
                          (lambda k=k: calls.append(k)), lambda: ())
               for k in ('ibot', 'ours', 'official')]
    import torch
    tool.time_interleaved(entries, pairs=3, warmup=1,
                          device=torch.device('cpu'))
    assert calls == ['ibot', 'ours', 'official'] * 4
    assert all(len(e.times) == 3 for e in entries)


def test_data_column(tmp_path):
    """The data column is the DataLoader rate of the config's pipeline."""
    tool = load_tool()
    assert tool.data_images_per_s(osp.join(REPO, IBOT), None, 8)[0] is None
    rate, note = tool.data_images_per_s(osp.join(REPO, IBOT), 0, 8)
    assert rate > 0 and note == 'DataLoader, 0 workers'


def test_table_tiny_with_official(tmp_path):
    root = make_fake_ibot(str(tmp_path / 'ibot'))
    work = str(tmp_path / 'table')
    proc = run_tool([sys.executable, TOOL, '--pair', 'toy', IBOT, OURS,
                     '--batch-size', '2', '--fp32', '--pairs', '2',
                     '--warmup', '1', '--peak-tflops', '1',
                     '--official-ibot', root, '--work-dir', work])
    with open(osp.join(work, 'table.json')) as f:
        rows = {r['kind']: r for r in json.load(f)['rows']}
    assert set(rows) == {'ibot', 'ours', 'official'}
    med = {}
    for kind, r in rows.items():
        assert r['batch'] == 2 and r['precision'] == 'fp32'
        assert len(r['step_s']) == 2 and min(r['step_s']) > 0
        med[kind] = sorted(r['step_s'])[0] / 2 + sorted(r['step_s'])[1] / 2
        assert r['step_s_median'] == pytest.approx(med[kind])
        assert r['images_per_s'] == pytest.approx(2 / med[kind])
        assert r['tflop_per_step'] > 0
        assert r['mfu'] == pytest.approx(r['tflop_per_step'] / med[kind])
        assert r['data_images_per_s'] is None
    assert rows['ours']['overhead_vs_ibot'] == pytest.approx(
        med['ours'] / med['ibot'] - 1)
    assert rows['ibot']['overhead_vs_ibot'] == 0
    assert rows['official']['overhead_vs_ibot'] is None
    assert rows['ibot']['step_vs_official'] == pytest.approx(
        med['ibot'] / med['official'])
    ratios = [a / b for a, b in zip(rows['ours']['step_s'],
                                    rows['ibot']['step_s'])]
    assert rows['ours']['paired_ratio_vs_ibot'] == pytest.approx(
        sum(ratios) / 2)
    assert rows['ibot']['paired_ratio_vs_ibot'] is None
    # the method's step costs more FLOPs than plain iBOT's
    assert rows['ours']['tflop_per_step'] > rows['ibot']['tflop_per_step']
    with open(osp.join(work, 'table.md')) as f:
        md = f.read()
    # --pair rows are named by their configs, the official row by label
    stem = lambda c: osp.splitext(osp.basename(c))[0]  # noqa: E731
    assert f'| toy: {stem(IBOT)} |' in md and f'| toy: {stem(OURS)} |' in md
    assert 'toy official iBOT' in md
    assert 'toy official iBOT' in proc.stdout
