from .cross_attn_recon import CrossAttnRecon
from .dinov2 import DINOv2
from .dinov2_equi_recon import DINOv2EquiRecon
from .ibot import iBOT
from .ibot_equi_recon import iBOTEquiRecon
from .simclr_equi_recon import SimCLREquiRecon
from .vicreg_equi_recon import VICRegEquiRecon

__all__ = ['CrossAttnRecon', 'DINOv2', 'DINOv2EquiRecon', 'iBOT', 'iBOTEquiRecon',
           'SimCLREquiRecon', 'VICRegEquiRecon']

from .sie import SIE  # noqa: E402

__all__ += ['SIE']

from .homography_estimator import (  # noqa: E402
    HomographyDataPreprocessor, HomographyEstimator)

__all__ += ['HomographyEstimator', 'HomographyDataPreprocessor']
