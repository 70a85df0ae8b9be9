"""Data transforms registered into mmpretrain's ``TRANSFORMS`` registry."""
from .block_mask import iBOTBlockMaskGenerator
from .multi_crop import iBOTMultiCrop
from .views import ApplyToViews, LoadViews

__all__ = ['iBOTBlockMaskGenerator', 'iBOTMultiCrop']
__all__ += ['LoadViews', 'ApplyToViews']
