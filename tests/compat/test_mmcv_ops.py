"""mmequi.compat.mmcv_ops <-> mmequi.ops: one dependency direction (compat
imports ops, ops imports nothing of mmequi's and no mmcv), and the op
backend is in place before mmcv.ops loads whichever of the two a process
imports first."""
import ast
import glob
import json
import os
import os.path as osp
import subprocess
import sys
import textwrap

import pytest

from tests.conftest import REPO

OPS_DIR = osp.join(REPO, 'mmequi', 'ops')


def _imports(path):
    """Absolute module names a file imports (relative ones resolved
    against ``mmequi.ops``)."""
    tree = ast.parse(open(path).read(), path)
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = ['mmequi', 'ops'][:3 - node.level]
                names.append('.'.join(base + ([node.module]
                                              if node.module else [])))
            else:
                names.append(node.module)
    return names


def test_ops_import_neither_compat_nor_mmcv():
    files = sorted(glob.glob(osp.join(OPS_DIR, '*.py')))
    assert len(files) >= 6
    for path in files:
        for name in _imports(path):
            assert not name.startswith(('mmequi.compat', 'mmcv')), (
                f'{osp.relpath(path, REPO)} imports {name}: mmequi.ops must '
                'not depend on mmequi.compat or mmcv (compat -> ops only)')
            if name.startswith('mmequi'):
                assert name.startswith('mmequi.ops'), (path, name)


def test_the_checker_sees_a_relative_compat_import(tmp_path):
    bad = tmp_path / 'bad.py'
    bad.write_text('from ..compat.mmcv_ops import install\n'
                   'from .errors import HOW_TO_GET_MMCV\n')
    assert _imports(str(bad)) == ['mmequi.compat.mmcv_ops',
                                  'mmequi.ops.errors']


CHECK = '''
import json, sys
import {first}
import mmequi.ops
from mmequi.compat import describe, mmcv_ops
import mmcv.ops.nms
import torch
boxes = torch.tensor([[0., 0., 10., 10.], [1., 1., 11., 11.],
                      [50., 50., 60., 60.]])
scores = torch.tensor([0.9, 0.8, 0.7])
_, keep = mmcv.ops.nms(boxes, scores, iou_threshold=0.5)
print(json.dumps(dict(
    backend=bool(mmcv_ops.backend_active()),
    describe=describe().get('mmcv_ops', ''),
    ext_is_ours=sys.modules['mmcv.ops.nms'].ext_module
    is sys.modules['mmcv._ext'],
    nms_is_ours=getattr(sys.modules['mmcv._ext'], 'nms', None)
    is mmequi.ops.nms,
    error_is_shared=mmcv_ops.MMCVOpUnavailableError
    is mmequi.ops.MMCVOpUnavailableError,
    keep=keep.tolist())))
'''


@pytest.mark.parametrize('first', ['mmequi.compat.mmcv_ops', 'mmequi.ops'])
def test_backend_installed_whichever_is_imported_first(first):
    env = dict(os.environ, PYTHONPATH=REPO)
    proc = subprocess.run(
        [sys.executable, '-c', textwrap.dedent(CHECK.format(first=first))],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out['keep'] == [0, 2]                  # nms ran through mmcv.ops
    assert out['error_is_shared']
    if out['backend']:
        assert out['describe'].startswith('mmequi torchvision backend')
        assert out['ext_is_ours'] and out['nms_is_ours']
    else:  # compiled mmcv: mmequi changes nothing
        assert out['describe'].startswith('compiled mmcv ops')
        assert not out['nms_is_ours']
