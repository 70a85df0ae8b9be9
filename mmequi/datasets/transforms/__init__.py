"""Data transforms registered into mmpretrain's ``TRANSFORMS`` registry."""
from .block_mask import iBOTBlockMaskGenerator
from .multi_crop import iBOTMultiCrop
from .theta_sampler import SampleTransformParams
from .views import ApplyToViews, LoadViews

__all__ = ['iBOTBlockMaskGenerator', 'iBOTMultiCrop', 'SampleTransformParams']
__all__ += ['LoadViews', 'ApplyToViews']
