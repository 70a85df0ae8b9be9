from .dinov2_loss import DINOv2Loss
from .ibot_loss import iBOTLoss
from .koleo_loss import KoLeoLoss, koleo_loss
from .infonce_loss import InfoNCELoss
from .recon_loss import ReconLoss
from .sinkhorn_knopp import sinkhorn_knopp
from .vicreg_loss import VICRegLoss

__all__ = ['DINOv2Loss', 'iBOTLoss', 'KoLeoLoss', 'koleo_loss', 'InfoNCELoss',
           'ReconLoss', 'sinkhorn_knopp', 'VICRegLoss']

from .sie_loss import SIELoss  # noqa: E402

__all__ += ['SIELoss']
