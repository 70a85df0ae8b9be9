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
import torch

# One intra-op torch thread in the test process unless OMP_NUM_THREADS says
# otherwise (run_tool's subprocesses get OMP_NUM_THREADS=1): the tests run
# tiny models, where a second thread gains nothing, and on a loaded 2-core
# machine torch's thread pool made them many times slower (an 80-step toy
# training: 118 s with the default pool, 4 s with one thread). os.environ
# is left alone, so other subprocesses (e.g. the thread-pool hang test in
# tests/datasets/test_toy_3d.py) see the caller's environment.
if 'OMP_NUM_THREADS' not in os.environ:
    torch.set_num_threads(1)

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
DEMO_CFG = osp.join(REPO, 'configs', 'demo',
                    'resnet18_1xb32-6e_toy-shapes-32px.py')


#: pytest-timeout limit of every ``slow`` test without its own
#: ``@pytest.mark.timeout``; the default for the rest is setup.cfg's
SLOW_TIMEOUT = 600


def pytest_collection_modifyitems(items) -> None:
    for item in items:
        if item.get_closest_marker('slow') is not None and \
                item.get_closest_marker('timeout') is None:
            item.add_marker(pytest.mark.timeout(SLOW_TIMEOUT))


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


@pytest.fixture(autouse=True)
def _restore_environ():
    """A test that writes ``os.environ`` directly (not via monkeypatch;
    e.g. code under test that sets MASTER_ADDR) must not change what later
    tests in the process see: with ``pytest -n`` the order differs and a
    leaked MASTER_ADDR sent torchrun to a host that does not exist."""
    saved = dict(os.environ)
    yield
    if os.environ != saved:
        os.environ.clear()
        os.environ.update(saved)


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


#: Python tools that ``run_tool`` calls in-process (their ``main(argv)``):
#: a fresh interpreter costs 10-20 s of toolbox imports per call, and these
#: tools read no environment at import time. Shell scripts, ``-c`` snippets,
#: torchrun and everything else still run as subprocesses.
#: A tool run this way that starts another one with ``subprocess.run``
#: (the transfer suite) gets that one in-process too.
IN_PROCESS_TOOLS = ('tools/train.py', 'tools/test.py',
                    'tools/model_converters/extract_backbone.py',
                    'tools/benchmarks/equivariance_benchmark.py',
                    'tools/benchmarks/run_transfer_suite.py',
                    'tools/analysis_tools/benchmark_pretrain.py',
                    'tools/analysis_tools/benchmark_data.py',
                    'tools/analysis_tools/benchmark_table.py',
                    'tools/analysis_tools/official_ibot_step.py')
#: environment variables a tool may set for a tool it starts and still
#: have it run in-process (the suite's launcher sets these)
_LAUNCHER_ENV = {'PYTHON', 'GPUS'}


def _in_process_tool(args: List[str], env: Optional[dict]) -> Optional[str]:
    """The repo-relative tool path when ``args`` is ``[sys.executable,
    TOOL, ...]`` for a tool in ``IN_PROCESS_TOOLS`` and no environment is
    asked for (an ``env`` may be read at import time, so it gets a real
    process); otherwise None."""
    if env or len(args) < 2 or args[0] != sys.executable:
        return None
    rel = osp.relpath(osp.join(REPO, args[1]), REPO).replace(os.sep, '/')
    return rel if rel in IN_PROCESS_TOOLS else None


def _routed_subprocess_run(real_run):
    """``subprocess.run`` for a tool running in-process: a command that
    ``run_tool`` would run in-process (from the repo root, with an
    environment that differs from ours only in ``_LAUNCHER_ENV``) runs
    in-process, its output written to
    the ``stdout`` file or returned as a pipe would; anything else goes to
    the real ``subprocess.run``."""
    def run(cmd, *args, **kwargs):
        env = kwargs.get('env')
        changed = {k for k in set(env or {}) | set(os.environ)
                   if (env or os.environ).get(k) != os.environ.get(k)}
        rel = None
        cwd = kwargs.get('cwd')
        if not args and isinstance(cmd, (list, tuple)) and \
                not (changed - _LAUNCHER_ENV) and \
                (cwd is None or osp.abspath(cwd) == REPO):
            rel = _in_process_tool([str(c) for c in cmd], None)
        if rel is None:
            return real_run(cmd, *args, **kwargs)
        proc = _run_in_process(rel, [str(c) for c in cmd[2:]])
        out = kwargs.get('stdout')
        if hasattr(out, 'write'):
            out.write(proc.stdout)
            out.flush()
            proc.stdout = None
        elif out != subprocess.PIPE and not kwargs.get('capture_output'):
            sys.stdout.write(proc.stdout)
            proc.stdout = None
        elif not (kwargs.get('text') or kwargs.get('universal_newlines')):
            proc.stdout = proc.stdout.encode()
        if kwargs.get('check') and proc.returncode:
            raise subprocess.CalledProcessError(proc.returncode, cmd,
                                                proc.stdout)
        return proc
    return run


def _manager_classes() -> list:
    """mmengine's global-instance classes (loggers, message hubs,
    visualizers, default scopes), each with its own instance table."""
    from mmengine.utils import ManagerMixin
    seen, todo = [], [ManagerMixin]
    while todo:
        cls = todo.pop()
        if cls not in seen:
            seen.append(cls)
            todo.extend(cls.__subclasses__())
    return seen


def _run_in_process(rel: str, argv: List[str]
                    ) -> subprocess.CompletedProcess:
    """``python REL *argv`` as ``main(argv)`` of a freshly loaded copy of
    the tool, with what a subprocess would give: stdout, stderr, log lines
    and warnings in ``stdout``, an uncaught exception's traceback there and
    exit code 1 (``SystemExit`` keeps its code). Global state a run leaves
    behind is put back: mmengine's instance tables (so the next run's
    'current' logger/scope is not this one's), the RNG states, the
    deterministic-algorithms flag, the thread count, ``os.environ`` and
    ``sys.path``."""
    import contextlib
    import importlib.util
    import io
    import random
    import time
    import traceback
    import warnings

    import numpy as np
    import torch
    from mmengine.logging import MMLogger

    # Runner names its logger, visualizer, message hub and log folder by
    # the start second; two runs in one second would share them.
    global _last_start
    while time.strftime('%Y%m%d_%H%M%S') == _last_start:
        time.sleep(0.05)
    _last_start = time.strftime('%Y%m%d_%H%M%S')

    managers = {c: dict(c._instance_dict) for c in _manager_classes()}
    saved_env, saved_path = dict(os.environ), list(sys.path)
    rng = (random.getstate(), np.random.get_state(), torch.get_rng_state())
    det = torch.are_deterministic_algorithms_enabled()
    cudnn = (torch.backends.cudnn.benchmark,
             torch.backends.cudnn.deterministic)
    threads = torch.get_num_threads()
    cwd = os.getcwd()
    buf = io.StringIO()
    code = 0
    try:
        # as run_tool's subprocesses (OMP_NUM_THREADS=1)
        torch.set_num_threads(1)
        os.chdir(REPO)
        path = osp.join(REPO, rel)
        sys.path.insert(0, osp.dirname(path))  # as for a script
        spec = importlib.util.spec_from_file_location(
            f'_tool_{osp.splitext(osp.basename(rel))[0]}', path)
        module = importlib.util.module_from_spec(spec)
        with contextlib.redirect_stdout(buf), \
                contextlib.redirect_stderr(buf), \
                warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter('default')
            warnings.filterwarnings('ignore', category=DeprecationWarning)
            # a logger on this buffer is 'current' until the Runner makes
            # its own (also on this buffer: it binds sys.stdout then)
            MMLogger.get_instance(f'run_tool_{_last_start}_{id(buf)}',
                                  log_level='INFO')
            real_run = subprocess.run
            subprocess.run = _routed_subprocess_run(real_run)
            try:
                spec.loader.exec_module(module)
                module.main(list(argv))
            except SystemExit as e:
                code = e.code if isinstance(e.code, int) else (
                    0 if e.code is None else 1)
                if e.code is not None and not isinstance(e.code, int):
                    print(e.code)
            except (KeyboardInterrupt, pytest.fail.Exception):
                raise  # Ctrl-C, pytest-timeout: end the test, not the tool
            except BaseException:  # noqa: B902  (a subprocess would die)
                traceback.print_exc()
                code = 1
            finally:
                subprocess.run = real_run
        for w in caught:
            buf.write(warnings.formatwarning(w.message, w.category,
                                             w.filename, w.lineno))
    finally:
        os.chdir(cwd)
        # classes first imported during the run (e.g. a toolbox's
        # visualizer, often with a fixed name) hold only its instances
        for c in _manager_classes():
            table = managers.get(c, {})
            for name in list(c._instance_dict):
                if name not in table:
                    inst = c._instance_dict.pop(name)
                    if isinstance(inst, MMLogger):
                        for h in list(inst.handlers):
                            h.close()
                            inst.removeHandler(h)
        os.environ.clear()
        os.environ.update(saved_env)
        sys.path[:] = saved_path
        random.setstate(rng[0])
        np.random.set_state(rng[1])
        torch.set_rng_state(rng[2])
        torch.use_deterministic_algorithms(det)
        (torch.backends.cudnn.benchmark,
         torch.backends.cudnn.deterministic) = cudnn
        torch.set_num_threads(threads)
    return subprocess.CompletedProcess(args=[sys.executable, rel, *argv],
                                       returncode=code, stdout=buf.getvalue())


_last_start = ''


def run_tool(args: List[str], timeout: float = 600,
             env: Optional[dict] = None, check: bool = True,
             in_process: bool = True) -> subprocess.CompletedProcess:
    """Run a command from the repo root with the test interpreter first on
    PATH and this checkout first on PYTHONPATH (the tools import the
    installed ``mmequi``, which may be another checkout); on failure show
    its output. ``python TOOL ...`` for a tool in ``IN_PROCESS_TOOLS`` runs
    in this process (see ``_run_in_process``) unless ``in_process=False`` or
    ``env`` is given; ``timeout`` then is the test's own (pytest-timeout)."""
    rel = _in_process_tool(args, env) if in_process else None
    if rel is not None:
        proc = _run_in_process(rel, args[2:])
        if check and proc.returncode != 0:
            raise AssertionError(
                f'{" ".join(args)} (in-process) exited with '
                f'{proc.returncode}:\n{proc.stdout[-6000:]}')
        return proc
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
