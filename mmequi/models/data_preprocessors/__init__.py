"""Data preprocessors registered into mmpretrain's ``MODELS`` registry."""
from .batch_multi_crop import BatchMultiCrop, BatchMultiCropDataPreprocessor
from .batch_photometric import (BatchPhotometric,
                                BatchPhotometricDataPreprocessor,
                                DeviceViewsDataPreprocessor)
from .equi_recon_data_preprocessor import EquiReconDataPreprocessor
from .ibot_data_preprocessor import iBOTDataPreprocessor
from .mask_index import add_mask_token_index, gather_mask_token_index
from .probe_data_preprocessor import (ProbeDataPreprocessor,
                                      TransformProbeDataPreprocessor)

__all__ = ['EquiReconDataPreprocessor', 'ProbeDataPreprocessor',
           'TransformProbeDataPreprocessor', 'BatchMultiCrop',
           'BatchMultiCropDataPreprocessor', 'BatchPhotometric',
           'BatchPhotometricDataPreprocessor', 'DeviceViewsDataPreprocessor',
           'iBOTDataPreprocessor', 'add_mask_token_index',
           'gather_mask_token_index']
