from .equivariance_r2 import EquivarianceR2, r2_mean, r2_sie

__all__ = ['EquivarianceR2', 'r2_mean', 'r2_sie']
