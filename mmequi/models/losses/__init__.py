from .ibot_loss import iBOTLoss
from .infonce_loss import InfoNCELoss
from .recon_loss import ReconLoss
from .vicreg_loss import VICRegLoss

__all__ = ['iBOTLoss', 'InfoNCELoss', 'ReconLoss', 'VICRegLoss']

from .sie_loss import SIELoss  # noqa: E402

__all__ += ['SIELoss']
