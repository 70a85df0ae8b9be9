from .cross_attn_recon_decoder import CrossAttnReconDecoder
from .recon_decoder import ReconDecoder

__all__ = ['ReconDecoder', 'CrossAttnReconDecoder']

from .hypernet_predictor import HypernetPredictor  # noqa: E402

__all__ += ['HypernetPredictor']

from .homography_head import HomographyHead  # noqa: E402

__all__ += ['HomographyHead']

from .equi_recon_head import EquiReconHead, find_equi_recon_head  # noqa: E402

__all__ += ['EquiReconHead', 'find_equi_recon_head']

from .dpt_depth_head import DPTDepthHead  # noqa: E402

__all__ += ['DPTDepthHead']
