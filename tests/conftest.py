"""Shared fixtures: generated data in real on-disk formats, tool runners."""
import glob
import os
import os.path as osp
import re
import subprocess
import sys
from typing import Iterator, List, Optional

import pytest

import mmequi  # noqa: F401  (compat layer for every test)

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
DEMO_CFG = osp.join(REPO, 'configs', 'demo',
                    'resnet18_1xb32-6e_toy-shapes-32px.py')


@pytest.fixture(autouse=True)
def _restore_default_scope():
    """Tests that call ``init_default_scope('mmpose')`` (etc.) leave that
    scope current for every later test in the process; restore the scope
    table after each test so test order does not matter."""
    from collections import OrderedDict

    from mmengine.registry import DefaultScope
    saved = OrderedDict(DefaultScope._instance_dict)
    yield
    DefaultScope._instance_dict = saved


@pytest.fixture(scope='session')
def toy_shapes(tmp_path_factory) -> str:
    """A tiny ImageNet-layout classification set (4 classes, 32 px)."""
    from mmequi.datasets import make_toy_shapes
    root = str(tmp_path_factory.mktemp('toy_shapes'))
    make_toy_shapes(root, num_classes=4, train_per_class=8, val_per_class=4,
                    size=32, seed=0)
    return root


@pytest.fixture(scope='session')
def toy_shapes_64(tmp_path_factory) -> str:
    """The same layout at 64 px, 16 training images (the SSL configs)."""
    from mmequi.datasets import make_toy_shapes
    root = str(tmp_path_factory.mktemp('toy_shapes_64'))
    make_toy_shapes(root, num_classes=4, train_per_class=4, val_per_class=1,
                    size=64, seed=1)
    return root


def data_root_options(root: str) -> List[str]:
    return [f'{split}_dataloader.dataset.data_root={root}'
            for split in ('train', 'val', 'test')]


def run_tool(args: List[str], timeout: float = 600,
             env: Optional[dict] = None, check: bool = True
             ) -> subprocess.CompletedProcess:
    """Run a command from the repo root with the test interpreter first on
    PATH and this checkout first on PYTHONPATH (the tools import the
    installed ``mmequi``, which may be another checkout); on failure show
    its output."""
    full_env = dict(os.environ)
    full_env['PYTHONPATH'] = REPO + (
        os.pathsep + full_env['PYTHONPATH'] if full_env.get('PYTHONPATH')
        else '')
    full_env['PATH'] = osp.dirname(sys.executable) + os.pathsep + \
        full_env.get('PATH', '')
    full_env['PYTHON'] = sys.executable
    full_env.setdefault('OMP_NUM_THREADS', '1')
    full_env.update(env or {})
    proc = subprocess.run(args, cwd=REPO, env=full_env, timeout=timeout,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True)
    if check and proc.returncode != 0:
        raise AssertionError(
            f'{" ".join(args)} exited with {proc.returncode}:\n'
            f'{proc.stdout[-6000:]}')
    return proc


def train_cmd(config: str, work_dir: str, *extra: str,
              options: Optional[List[str]] = None) -> List[str]:
    cmd = [sys.executable, 'tools/train.py', config, '--work-dir', work_dir,
           *extra]
    if options:
        cmd += ['--cfg-options', *options]
    return cmd


#: any scheme://, not only http(s): configs must never fetch anything
URL = re.compile(r'[a-z][a-z0-9+.-]*://', re.I)


def config_strings(obj) -> Iterator[str]:
    """Every string (keys included) in a nested config dict/list."""
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield from config_strings(k)
            yield from config_strings(v)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            yield from config_strings(v)


def assert_no_url(cfg, folder: str) -> None:
    """Neither the loaded config (an mmengine ``Config``) nor any ``.py``
    file under ``folder`` (its bases, comments included) names a URL."""
    bad = [s for s in config_strings(cfg.to_dict()) if URL.search(s)]
    assert not bad, bad
    for path in glob.glob(osp.join(folder, '**', '*.py'), recursive=True):
        with open(path) as f:
            assert not URL.search(f.read()), path


def loss_terms(losses: dict) -> dict:
    """The summed terms of a loss dict: mmengine's ``parse_losses`` adds
    only keys containing ``loss``; the others (e.g. iBOT's ``teacher_*``
    collapse figures) are logged."""
    return {k: v for k, v in losses.items() if 'loss' in k}


def total_loss(losses: dict):
    return sum(loss_terms(losses).values())
