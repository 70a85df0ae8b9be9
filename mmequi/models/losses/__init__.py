from .ibot_loss import iBOTLoss

__all__ = ['iBOTLoss']
