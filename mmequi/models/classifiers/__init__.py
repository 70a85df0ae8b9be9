"""Probe models on frozen backbones (mmpretrain's ``MODELS``)."""
from .equivariance_probe import EquivarianceProbe, pool_features

__all__ = ['EquivarianceProbe', 'pool_features']
