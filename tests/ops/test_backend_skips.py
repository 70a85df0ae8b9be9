"""Which op and model-zoo tests may skip when compiled mmcv is installed.

Only the tests about mmequi's stand-in ``mmcv._ext`` itself; the model-zoo
smoke tests (Mask R-CNN, UPerNet, ViTPose) and the op tests must run with
either backend, so GPU machines with compiled mmcv keep them. Checked on the
collected test functions' skip marks (module-wide ``pytestmark`` included),
so it fails even where the skip condition is false (no compiled mmcv).
"""
import importlib
import inspect
import pkgutil

import tests.ops

#: the tests that describe the stand-in backend only
STAND_IN_ONLY = {
    'tests.ops.test_backend::test_backend_active_and_exports',
    'tests.ops.test_backend::test_no_compiled_ops_claimed',
    'tests.ops.test_backend::test_unimplemented_kernel_raises_by_name',
}


def _modules():
    names = ['tests.models.test_model_zoos']
    names += [f'tests.ops.{m.name}'
              for m in pkgutil.iter_modules(tests.ops.__path__)
              if m.name.startswith('test_')]
    return [importlib.import_module(n) for n in names]


def _skip_marks(module, fn) -> list:
    marks = list(getattr(module, 'pytestmark', []))
    if not isinstance(getattr(module, 'pytestmark', []), list):
        marks = [module.pytestmark]
    marks += getattr(fn, 'pytestmark', [])
    return [m for m in marks if m.name in ('skip', 'skipif')]


def test_only_stand_in_tests_skip_with_compiled_mmcv():
    skipping, seen = set(), set()
    for module in _modules():
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if not name.startswith('test_') or fn.__module__ != \
                    module.__name__:
                continue
            seen.add(f'{module.__name__}::{name}')
            if _skip_marks(module, fn):
                skipping.add(f'{module.__name__}::{name}')
    assert STAND_IN_ONLY <= seen, STAND_IN_ONLY - seen
    assert 'tests.models.test_model_zoos::' \
        'test_mask_rcnn_r18_fpn_loss_backward_predict' in seen
    assert skipping == STAND_IN_ONLY, sorted(skipping ^ STAND_IN_ONLY)
