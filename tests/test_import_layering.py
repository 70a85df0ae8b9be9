"""Package layering: :mod:`mmequi.datasets` never imports
:mod:`mmequi.models`, and :mod:`mmequi.param_transforms` (θ sampler, pixel
normaliser, g_θ families) imports neither, so both sides can use it.

Two checks: the import statements of every source file (static, catches
lazy imports inside functions), and a subprocess that imports every module
of the package without running ``mmequi/__init__.py`` (which registers
everything) and lists the ``mmequi`` modules that got loaded.
"""
import ast
import json
import os.path as osp
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: package -> the mmequi packages it must not import
FORBIDDEN = {
    'mmequi.datasets': ('mmequi.models', ),
    'mmequi.param_transforms': ('mmequi.models', 'mmequi.datasets'),
}


def _imported_modules(path: Path, module: str):
    """Absolute names of the modules imported by the file ``path`` (the
    module ``module``), relative imports resolved."""
    is_pkg = path.name == '__init__.py'
    package = module if is_pkg else module.rsplit('.', 1)[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split('.')
                base = base[:len(base) - node.level + 1]
                name = '.'.join(base + ([node.module] if node.module else []))
            else:
                name = node.module
            yield name
            for alias in node.names:  # `from mmequi import models`
                yield f'{name}.{alias.name}'


def _is_under(name: str, package: str) -> bool:
    return name == package or name.startswith(package + '.')


@pytest.mark.parametrize('package', sorted(FORBIDDEN))
def test_source_imports(package):
    pkg_dir = ROOT / package.replace('.', '/')
    files = sorted(pkg_dir.rglob('*.py'))
    assert files, f'no sources under {pkg_dir}'
    bad = []
    for path in files:
        rel = path.relative_to(ROOT).with_suffix('')
        module = '.'.join(rel.parts)
        if module.endswith('.__init__'):
            module = module[:-len('.__init__')]
        for name in _imported_modules(path, module):
            if any(_is_under(name, f) for f in FORBIDDEN[package]):
                bad.append(f'{path.relative_to(ROOT)} imports {name}')
    assert not bad, '\n'.join(bad)


_PROBE = """
import importlib, json, pkgutil, sys, types
stub = types.ModuleType('mmequi')
stub.__path__ = [{root!r}]
sys.modules['mmequi'] = stub  # skip mmequi/__init__.py (imports models)
out = {{}}
for name in {packages!r}:
    pkg = importlib.import_module(name)
    for info in pkgutil.walk_packages(pkg.__path__, name + '.'):
        importlib.import_module(info.name)
out = sorted(k for k in sys.modules if k.startswith('mmequi.'))
print(json.dumps(out))
"""


def test_runtime_imports():
    """Import every module of the packages in one subprocess; the loaded
    mmequi modules must not include a forbidden package."""
    results = {}
    for package in sorted(FORBIDDEN):
        code = _PROBE.format(root=osp.join(str(ROOT), 'mmequi'),
                             packages=[package])
        proc = subprocess.run([sys.executable, '-c', code], cwd=str(ROOT),
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr[-3000:]
        results[package] = json.loads(proc.stdout.strip().splitlines()[-1])
    for package, loaded in results.items():
        assert any(_is_under(m, package) for m in loaded), (package, loaded)
        bad = [m for m in loaded
               if any(_is_under(m, f) for f in FORBIDDEN[package])]
        assert not bad, f'importing {package} loaded {bad}'


def test_walk_finds_every_module():
    """The runtime check walks real packages (guards a typo in FORBIDDEN)."""
    for package in FORBIDDEN:
        path = ROOT / package.replace('.', '/')
        assert (path / '__init__.py').is_file(), path
        assert list(pkgutil.iter_modules([str(path)])), path
