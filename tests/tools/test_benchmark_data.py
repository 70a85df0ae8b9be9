"""tools/analysis_tools/benchmark_data.py on the tiny iBOT config: profile
and DataLoader runs with 0 and 1 workers, JSON and table."""
import json
import os.path as osp
import sys

from ..conftest import run_tool

CFG = 'configs/ibot/ibot_vit-tiny-p16_1xb8-4e_toy-shapes-64px.py'


def test_profile_and_workers_json(tmp_path):
    out = str(tmp_path / 'data.json')
    proc = run_tool([sys.executable, 'tools/analysis_tools/benchmark_data.py',
                     CFG, '--workers', '0', '1', '--images', '4',
                     '--batch-size', '2', '--files', '2', '--profile',
                     '--profile-images', '2', '--json', out])
    assert osp.isfile(out), proc.stdout[-3000:]
    with open(out) as f:
        r = json.load(f)
    prof = r['profile']
    # every transform of the pipeline, in order, with a time
    assert list(prof['transforms_ms']) == [
        '0:LoadImageFromFile', '1:iBOTMultiCrop', '2:iBOTBlockMaskGenerator',
        '3:PackInputs'], prof
    assert all(v > 0 for v in prof['transforms_ms'].values())
    assert abs(prof['total_ms'] - sum(prof['transforms_ms'].values())) < 1e-9
    # the multi-crop's ops add up to its time (the rest is 'other')
    ops = prof['ops_ms']
    assert {'resize_box', 'random_resized_crop_params', 'planes_to_hwc',
            'hwc_to_planes'} <= set(ops), ops
    crop_ms = prof['transforms_ms']['1:iBOTMultiCrop']
    assert abs(sum(ops.values()) - crop_ms) < 1e-6 * max(crop_ms, 1)
    assert all(v >= 0 for k, v in ops.items() if not k.startswith('other'))
    runs = {x['workers']: x for x in r['loader']}
    assert set(runs) == {0, 1}
    for x in runs.values():
        assert x['images'] == 4 and x['batch_size'] == 2
        assert x['images_per_s'] > 0 and x['steady_images_per_s'] > 0
        assert abs(x['images_per_s'] - 4 / x['wall_s']) < 1e-6 * \
            x['images_per_s']
    one = runs[1]['steady_images_per_s']
    assert r['model']['per_worker_images_per_s'] == one
    assert abs(r['model']['modelled_images_per_s_16_workers'] - 16 * one) \
        < 1e-9 * one
    assert 'modelled' in proc.stdout and '1:iBOTMultiCrop' in proc.stdout


def test_bad_arguments_are_refused():
    proc = run_tool([sys.executable, 'tools/analysis_tools/benchmark_data.py',
                     CFG, '--images', '0'], check=False)
    assert proc.returncode != 0
    assert '--images must be >= 1' in proc.stdout
