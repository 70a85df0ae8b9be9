"""Helpers shared by the mmcv kernel stand-ins."""
import numpy as np

FLT_MAX = float(np.finfo(np.float32).max)  # C's FLT_MAX
FLT_MIN = float(np.finfo(np.float32).tiny)  # C's FLT_MIN


def as_c_float(x: float) -> float:
    """``x`` rounded to float32, as pybind11 does for a C++ ``float`` arg."""
    return float(np.float32(x))
