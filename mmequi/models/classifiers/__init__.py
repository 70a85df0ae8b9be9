"""Probe models on frozen backbones (mmpretrain's ``MODELS``)."""
from .equivariance_probe import EquivarianceProbe

__all__ = ['EquivarianceProbe']
