"""Pure PyTorch / torchvision implementations of the mmcv kernels our dense
tasks call. They keep the call signatures of mmcv's C++ functions
(``mmcv/ops/csrc/pytorch/pybind.cpp``) so mmcv's own Python wrappers run on
top of them unchanged; :mod:`mmequi.compat.mmcv_ops` installs them as
``mmcv._ext``.

Dependency direction: ``mmequi.compat`` imports ``mmequi.ops``, never the
reverse; this package imports only torch, torchvision and numpy (not mmcv,
so importing it cannot load ``mmcv.ops`` before the backend is installed).
"""
from .errors import HOW_TO_GET_MMCV, MMCVOpUnavailableError
from .focal_loss import sigmoid_focal_loss_backward, sigmoid_focal_loss_forward
from .nms import nms
from .roi_align import roi_align_backward, roi_align_forward
from .roi_pool import roi_pool_backward, roi_pool_forward

EXT_FUNCTIONS = {
    'nms': nms,
    'roi_align_forward': roi_align_forward,
    'roi_align_backward': roi_align_backward,
    'roi_pool_forward': roi_pool_forward,
    'roi_pool_backward': roi_pool_backward,
    'sigmoid_focal_loss_forward': sigmoid_focal_loss_forward,
    'sigmoid_focal_loss_backward': sigmoid_focal_loss_backward,
}

__all__ = [
    'EXT_FUNCTIONS', 'MMCVOpUnavailableError', 'HOW_TO_GET_MMCV', 'nms',
    'roi_align_forward', 'roi_align_backward', 'roi_pool_forward',
    'roi_pool_backward', 'sigmoid_focal_loss_forward',
    'sigmoid_focal_loss_backward'
]
