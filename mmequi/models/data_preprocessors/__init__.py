"""Data preprocessors registered into mmpretrain's ``MODELS`` registry."""
from .equi_recon_data_preprocessor import EquiReconDataPreprocessor

__all__ = ['EquiReconDataPreprocessor']
