"""Pure PyTorch / torchvision implementations of the mmcv kernels our dense
tasks call. They keep the call signatures of mmcv's C++ functions
(``mmcv/ops/csrc/pytorch/pybind.cpp``) so mmcv's own Python wrappers run on
top of them unchanged; see :mod:`mmequi.compat.mmcv_ops`.
"""
EXT_FUNCTIONS = {}
