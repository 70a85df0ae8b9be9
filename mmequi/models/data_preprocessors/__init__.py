"""Data preprocessors registered into mmpretrain's ``MODELS`` registry."""
from .equi_recon_data_preprocessor import EquiReconDataPreprocessor
from .probe_data_preprocessor import (ProbeDataPreprocessor,
                                      TransformProbeDataPreprocessor)

__all__ = ['EquiReconDataPreprocessor', 'ProbeDataPreprocessor',
           'TransformProbeDataPreprocessor']
