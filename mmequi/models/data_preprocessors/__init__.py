"""Data preprocessors registered into mmpretrain's ``MODELS`` registry."""
from .batch_multi_crop import BatchMultiCrop, BatchMultiCropDataPreprocessor
from .batch_photometric import (BatchPhotometric,
                                BatchPhotometricDataPreprocessor,
                                DeviceViewsDataPreprocessor)
from .equi_recon_data_preprocessor import EquiReconDataPreprocessor
from .probe_data_preprocessor import (ProbeDataPreprocessor,
                                      TransformProbeDataPreprocessor)

__all__ = ['EquiReconDataPreprocessor', 'ProbeDataPreprocessor',
           'TransformProbeDataPreprocessor', 'BatchMultiCrop',
           'BatchMultiCropDataPreprocessor', 'BatchPhotometric',
           'BatchPhotometricDataPreprocessor', 'DeviceViewsDataPreprocessor']
