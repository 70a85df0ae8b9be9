"""mmequi's stand-in ``mmcv._ext``: installed by ``import mmequi``, host
toolboxes import, unimplemented kernels fail loudly and by name."""
import mmequi  # noqa: F401  (installs the mmcv op backend first)

import inspect
import os.path as osp
import pkgutil
import re
import sys
import warnings

import pytest
import torch

import mmequi.ops
from mmequi.compat import mmcv_ops
from mmequi.compat.mmcv_ops import MMCVOpUnavailableError

#: only the tests about the stand-in itself skip when compiled mmcv is
#: installed; the signature and toolbox-import checks run with either
#: backend (tests/ops/test_backend_skips.py keeps it that way)
stand_in_only = pytest.mark.skipif(
    not mmcv_ops.backend_active(),
    reason='compiled mmcv is installed; the stand-in backend is not used')


@stand_in_only
def test_backend_active_and_exports():
    assert mmcv_ops.backend_active()
    ext = sys.modules['mmcv._ext']
    assert set(mmequi.ops.EXT_FUNCTIONS) == {
        'nms', 'roi_align_forward', 'roi_align_backward', 'roi_pool_forward',
        'roi_pool_backward', 'sigmoid_focal_loss_forward',
        'sigmoid_focal_loss_backward'
    }
    for name, fn in mmequi.ops.EXT_FUNCTIONS.items():
        assert getattr(ext, name) is fn
        assert getattr(mmequi.ops, name) is fn


def test_signatures_match_mmcv_pybind():
    """Keyword names are those of mmcv's pybind11 bindings (the wrappers pass
    them as keywords)."""
    import mmcv
    src = osp.join(osp.dirname(mmcv.__file__), 'ops', 'csrc', 'pytorch',
                   'pybind.cpp')
    if not osp.exists(src):
        pytest.skip('mmcv sources not shipped')
    text = open(src).read()
    for name, fn in mmequi.ops.EXT_FUNCTIONS.items():
        m = re.search(r'm\.def\("%s",(.*?)\);' % name, text, re.S)
        assert m, name
        expected = re.findall(r'py::arg\("(\w+)"\)', m.group(1))
        assert list(inspect.signature(fn).parameters) == expected, name


def test_host_toolboxes_import():
    import mmdet.models  # noqa: F401
    import mmpose.models  # noqa: F401
    import mmpretrain.models  # noqa: F401
    import mmseg.models  # noqa: F401
    from mmcv.ops import (RoIAlign, RoIPool, batched_nms, nms,  # noqa: F401
                          point_sample, roi_align, roi_pool,
                          sigmoid_focal_loss)


@stand_in_only
def test_no_compiled_ops_claimed():
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', DeprecationWarning)
        assert pkgutil.find_loader('mmcv._ext') is None
    from mmengine.utils.dl_utils import mmcv_full_available
    assert not mmcv_full_available()


@stand_in_only
def test_unimplemented_kernel_raises_by_name():
    from mmcv.ops import DeformConv2d, nms_rotated
    conv = DeformConv2d(2, 2, 3, padding=1)
    x = torch.randn(1, 2, 5, 5)
    offset = torch.zeros(1, 18, 5, 5)
    with pytest.raises(MMCVOpUnavailableError,
                       match='deform_conv_forward') as err:
        conv(x, offset)
    assert 'nms' in str(err.value)  # lists what is implemented
    assert isinstance(err.value, NotImplementedError)
    dets = torch.tensor([[5., 5., 4., 4., 0.1], [5., 5., 4., 4., 0.2]])
    with pytest.raises(MMCVOpUnavailableError, match="'nms_rotated'"):
        nms_rotated(dets, torch.tensor([0.9, 0.8]), 0.5)
