from .batch_mask import (dinov2_batch_masks, dinov2_mask_collate,
                         dinov2_mask_targets)
from .cached_dataset import CachedDataset
from .in_memory import InMemoryDataset
from .homography import HomographyPairs, PackHomographyInputs
from .three_die_bench import (ThreeDIEBench, color_difference,
                              euler_to_quaternion,
                              relative_rotation_quaternion)
from .toy_shapes import SHAPES, make_toy_shapes
from .transfer_datasets import (INaturalist2018, OfflineCIFAR10,  # noqa: F401
                                OfflineCIFAR100)
from .transforms import (RandomRotationViews, iBOTBlockMaskGenerator,
                         iBOTMultiCrop)

__all__ = [
    'SHAPES', 'make_toy_shapes', 'iBOTBlockMaskGenerator', 'iBOTMultiCrop',
    'ThreeDIEBench', 'euler_to_quaternion', 'relative_rotation_quaternion',
    'color_difference', 'CachedDataset', 'HomographyPairs',
    'PackHomographyInputs', 'InMemoryDataset', 'RandomRotationViews',
    'dinov2_mask_collate', 'dinov2_batch_masks', 'dinov2_mask_targets'
]
