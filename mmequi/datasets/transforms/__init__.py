"""Data transforms registered into mmpretrain's ``TRANSFORMS`` registry."""
from .block_mask import iBOTBlockMaskGenerator
from .multi_crop import iBOTMultiCrop
from .theta_sampler import SampleTransformParams

__all__ = ['iBOTBlockMaskGenerator', 'iBOTMultiCrop', 'SampleTransformParams']
