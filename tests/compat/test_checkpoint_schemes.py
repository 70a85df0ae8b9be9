"""Every checkpoint scheme loads weights-only (issue 14, item 1).

A crafted checkpoint whose pickle would create a marker file is served by an
HTTP server on 127.0.0.1 (nothing is fetched from the internet) or placed in
the torch hub cache; each scheme and each user entry point must refuse it
with ``UnsafeCheckpointError`` naming the URL/file and the refused global,
and must leave the marker absent. A safe checkpoint still loads.
"""
import functools
import http.server
import os
import shutil
import subprocess
import sys
import threading
import types

import pytest
import torch
import torch.nn as nn
from mmengine.runner import checkpoint as mmengine_checkpoint
from mmengine.runner.checkpoint import CheckpointLoader

from mmequi.compat.checkpoint import UnsafeCheckpointError

#: the global the crafted pickle calls (``open(marker, 'w')``)
REFUSED = ('builtins.open', 'io.open')


class _Marker:
    """Unpickling this calls ``open(path, 'w')``: the file appears iff the
    pickle ran."""

    def __init__(self, path: str):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, 'w'))


class _Quiet(http.server.SimpleHTTPRequestHandler):

    def log_message(self, *args):
        pass


@pytest.fixture
def served(tmp_path, monkeypatch):
    """(base URL, served dir, marker path); TORCH_HOME and MMENGINE_HOME in
    tmp_path so the hub cache starts empty."""
    root = tmp_path / 'www'
    root.mkdir()
    marker = tmp_path / 'pickle_ran'
    torch.save({'state_dict': {'w': torch.ones(2)},
                'payload': _Marker(str(marker))}, str(root / 'evil.pth'))
    torch.save({'state_dict': {'w': torch.arange(3.0)}},
               str(root / 'safe.pth'))
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    monkeypatch.setenv('MMENGINE_HOME', str(tmp_path / 'mmengine_home'))
    server = http.server.ThreadingHTTPServer(
        ('127.0.0.1', 0), functools.partial(_Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f'http://127.0.0.1:{server.server_address[1]}', root, marker
    finally:
        server.shutdown()
        server.server_close()


def _hub_cache() -> str:
    return os.path.join(os.environ['TORCH_HOME'], 'hub', 'checkpoints')


def _refused(load, marker, *named):
    """``load()`` raises UnsafeCheckpointError naming ``named`` and the
    refused global, and the pickle did not run."""
    with pytest.raises(UnsafeCheckpointError) as info:
        load()
    msg = str(info.value)
    for name in named:
        assert name in msg, (name, msg)
    assert any(g in msg for g in REFUSED), msg
    assert 'Please file an issue' not in msg
    assert not marker.exists(), 'the checkpoint pickle ran'
    return msg


def _is_safe(ckpt):
    torch.testing.assert_close(ckpt['state_dict']['w'], torch.arange(3.0))


def test_http_refuses_code_and_loads_weights(served):
    base, _, marker = served
    _refused(lambda: CheckpointLoader.load_checkpoint(f'{base}/evil.pth'),
             marker, f'{base}/evil.pth',
             os.path.join(_hub_cache(), 'evil.pth'))
    _is_safe(CheckpointLoader.load_checkpoint(f'{base}/safe.pth'))
    assert os.path.isfile(os.path.join(_hub_cache(), 'safe.pth'))


def test_https_reads_the_hub_cache_weights_only(served):
    """https:// reads ``$TORCH_HOME/hub/checkpoints/<name>`` when present
    (no download): a malicious cached file is refused, a safe one loads."""
    _, root, marker = served
    os.makedirs(_hub_cache())
    shutil.copy(root / 'evil.pth', os.path.join(_hub_cache(), 'e.pth'))
    shutil.copy(root / 'safe.pth', os.path.join(_hub_cache(), 's.pth'))
    url = 'https://download.invalid/models/e.pth'
    _refused(lambda: CheckpointLoader.load_checkpoint(url), marker, url,
             os.path.join(_hub_cache(), 'e.pth'))
    _is_safe(CheckpointLoader.load_checkpoint(
        'https://download.invalid/models/s.pth'))


def test_torch_hub_and_model_zoo_load_url_are_weights_only(served):
    """As torchvision, mmengine's ``load_url`` and model_zoo call it, even
    with an explicit ``weights_only=False``."""
    import torch.utils.model_zoo
    from mmengine.utils.dl_utils import load_url
    base, _, marker = served
    url = f'{base}/evil.pth'
    _refused(lambda: torch.hub.load_state_dict_from_url(url), marker, url)
    _refused(lambda: torch.hub.load_state_dict_from_url(
        url, weights_only=False), marker, url)
    _refused(lambda: torch.utils.model_zoo.load_url(url), marker, url)
    _refused(lambda: load_url(url), marker, url)
    _is_safe(torch.hub.load_state_dict_from_url(f'{base}/safe.pth'))


@pytest.mark.parametrize('prefix', ['torchvision://', 'modelzoo://'])
def test_torchvision_scheme(served, monkeypatch, prefix):
    base, _, marker = served
    monkeypatch.setattr(mmengine_checkpoint, 'get_torchvision_models',
                        lambda: {'evilnet': f'{base}/evil.pth',
                                 'goodnet': f'{base}/safe.pth'})
    _refused(lambda: CheckpointLoader.load_checkpoint(f'{prefix}evilnet'),
             marker, f'{base}/evil.pth', f'{prefix}evilnet')
    _is_safe(CheckpointLoader.load_checkpoint(f'{prefix}goodnet'))


@pytest.mark.parametrize('prefix', ['open-mmlab://', 'openmmlab://'])
def test_openmmlab_scheme_url_and_local_entries(served, monkeypatch, prefix):
    """A URL entry goes through the hub download, a local entry
    (``$MMENGINE_HOME/<path>``) through mmengine's own torch.load."""
    base, root, marker = served
    home = os.environ['MMENGINE_HOME']
    os.makedirs(os.path.join(home, 'zoo'))
    shutil.copy(root / 'evil.pth', os.path.join(home, 'zoo', 'evil.pth'))
    shutil.copy(root / 'safe.pth', os.path.join(home, 'zoo', 'safe.pth'))
    monkeypatch.setattr(
        mmengine_checkpoint, 'get_external_models',
        lambda: {'evil_url': f'{base}/evil.pth', 'evil_local': 'zoo/evil.pth',
                 'safe_url': f'{base}/safe.pth', 'safe_local': 'zoo/safe.pth'})
    _refused(lambda: CheckpointLoader.load_checkpoint(f'{prefix}evil_url'),
             marker, f'{base}/evil.pth')
    _refused(lambda: CheckpointLoader.load_checkpoint(f'{prefix}evil_local'),
             marker, os.path.join(home, 'zoo', 'evil.pth'),
             f'{prefix}evil_local')
    _is_safe(CheckpointLoader.load_checkpoint(f'{prefix}safe_url'))
    _is_safe(CheckpointLoader.load_checkpoint(f'{prefix}safe_local'))


def test_mmcls_scheme(served, monkeypatch):
    base, _, marker = served
    monkeypatch.setattr(mmengine_checkpoint, 'get_mmcls_models',
                        lambda: {'evil': f'{base}/evil.pth'})
    _refused(lambda: CheckpointLoader.load_checkpoint('mmcls://evil'),
             marker, f'{base}/evil.pth')


def test_pavi_scheme(served, monkeypatch):
    """``pavi://`` downloads to a temp dir, then mmengine calls torch.load
    (a stand-in ``pavi`` client copies the crafted file)."""
    _, root, marker = served

    class _Model:
        name = 'evil.pth'

        def download(self, path):
            shutil.copy(root / 'evil.pth', path)

    pavi = types.ModuleType('pavi')
    pavi.modelcloud = types.SimpleNamespace(get=lambda path: _Model())
    monkeypatch.setitem(sys.modules, 'pavi', pavi)
    _refused(lambda: CheckpointLoader.load_checkpoint('pavi://team/evil'),
             marker, 'pavi://team/evil')


@pytest.mark.parametrize('path', ['s3://bucket/evil.pth',
                                  'cluster:s3://bucket/evil.pth',
                                  'petrel://bucket/evil.pth'])
def test_storage_backend_schemes(served, monkeypatch, path):
    """``s3://``/``petrel://`` read bytes through an mmengine file backend
    and ``torch.load`` them from memory."""
    _, root, marker = served
    data = (root / 'evil.pth').read_bytes()
    backend = types.SimpleNamespace(get=lambda filepath: data)
    monkeypatch.setattr(mmengine_checkpoint, 'get_file_backend',
                        lambda *a, **k: backend)
    _refused(lambda: CheckpointLoader.load_checkpoint(path), marker, path)


def test_mmengine_helpers_called_directly(served, monkeypatch):
    """``from mmengine.runner.checkpoint import load_from_http`` etc."""
    base, root, marker = served
    from mmengine.runner.checkpoint import (load_from_http, load_from_local,
                                            load_from_torchvision)
    monkeypatch.setattr(mmengine_checkpoint, 'get_torchvision_models',
                        lambda: {'evilnet': f'{base}/evil.pth'})
    _refused(lambda: load_from_http(f'{base}/evil.pth'), marker, base)
    _refused(lambda: load_from_torchvision('torchvision://evilnet'), marker,
             base)
    _refused(lambda: load_from_local(str(root / 'evil.pth'), None), marker,
             str(root / 'evil.pth'))


def test_scheme_registered_later_is_weights_only(served):
    """A loader registered after ``import mmequi`` that calls torch.load
    with ``weights_only=False`` still loads weights-only."""
    _, root, marker = served

    def load_from_mine(filename, map_location=None):
        return torch.load(str(root / filename[len('mine://'):]),
                          map_location=map_location, weights_only=False)

    CheckpointLoader.register_scheme('mine://', load_from_mine)
    try:
        _refused(lambda: CheckpointLoader.load_checkpoint('mine://evil.pth'),
                 marker, 'mine://evil.pth')
        _is_safe(CheckpointLoader.load_checkpoint('mine://safe.pth'))
    finally:
        CheckpointLoader._schemes.pop('mine://')
    assert torch.load.__module__.startswith('torch'), 'torch.load restored'


def test_runner_load_from_and_resume_http(served, tmp_path):
    """``load_from=http://...`` and ``resume=True`` in a Runner."""
    from mmengine.model import BaseModel
    from mmengine.runner import Runner

    class Toy(BaseModel):

        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(torch.zeros(2))

        def forward(self, inputs, data_samples=None, mode='tensor'):
            return dict(loss=(self.w * inputs).sum())

    base, _, marker = served
    for resume in (False, True):
        runner = Runner(
            model=Toy(), work_dir=str(tmp_path / f'work{resume}'),
            train_dataloader=dict(
                dataset=[torch.ones(2)] * 4, batch_size=2,
                sampler=dict(type='DefaultSampler', shuffle=False),
                collate_fn=dict(type='default_collate')),
            train_cfg=dict(by_epoch=True, max_epochs=1),
            optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
            load_from=f'{base}/evil.pth', resume=resume,
            default_hooks=dict(checkpoint=None, logger=None),
            experiment_name=f'url_load_{resume}_{os.getpid()}')
        _refused(runner.train, marker, f'{base}/evil.pth')


def test_mmseg_pretrained_init_cfg_http(served):
    """mmseg's ViT with ``init_cfg=dict(type='Pretrained', checkpoint=URL)``
    (mmseg reads it with ``CheckpointLoader.load_checkpoint``)."""
    from mmseg.models.backbones import VisionTransformer
    base, _, marker = served
    vit = VisionTransformer(
        img_size=32, patch_size=16, embed_dims=8, num_layers=1, num_heads=2,
        mlp_ratio=1, init_cfg=dict(type='Pretrained',
                                   checkpoint=f'{base}/evil.pth'))
    _refused(vit.init_weights, marker, f'{base}/evil.pth')


def test_read_checkpoint_http(served):
    from mmequi.utils.checkpoint_io import read_checkpoint
    base, _, marker = served
    _refused(lambda: read_checkpoint(f'{base}/evil.pth'), marker,
             f'{base}/evil.pth')
    _is_safe(read_checkpoint(f'{base}/safe.pth'))


def test_env_override_cannot_reopen_urls(served, tmp_path):
    """``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1`` in a fresh process: http://,
    torch.hub and a storage-backend (in-memory) load stay weights-only."""
    base, root, marker = served
    code = '\n'.join([
        'import io, mmequi, torch',
        'from mmengine.runner import checkpoint as m',
        'from mmequi.compat.checkpoint import UnsafeCheckpointError',
        f'data = open({str(root / "evil.pth")!r}, "rb").read()',
        'm.get_file_backend = lambda *a, **k: type("B", (), {"get": '
        'lambda self, p: data})()',
        'loads = [lambda: m.CheckpointLoader.load_checkpoint('
        f'{base + "/evil.pth"!r}),',
        f'         lambda: torch.hub.load_state_dict_from_url('
        f'{base + "/evil.pth"!r}, file_name="e2.pth"),',
        '         lambda: m.CheckpointLoader.load_checkpoint("s3://b/e.pth")]',
        'for load in loads:',
        '    try:',
        '        load()',
        '    except UnsafeCheckpointError as e:',
        '        print("REFUSED", str(e)[-40:])',
    ])
    env = dict(os.environ, TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD='1')
    proc = subprocess.run([sys.executable, '-c', code], env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.stdout.count('REFUSED') == 3, proc.stdout + proc.stderr
    assert not marker.exists()


def test_describe_lists_every_scheme():
    import mmequi.compat
    text = mmequi.compat.describe()['checkpoint_schemes']
    for prefix in CheckpointLoader._schemes:
        assert repr(prefix) in text
    for prefix in ('http://', 'https://', 'torchvision://', 'open-mmlab://',
                   'pavi://', 'mmcls://', "'(\\\\S+\\\\:)?s3://'"):
        assert prefix in text, (prefix, text)
