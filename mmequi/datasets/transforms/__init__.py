"""Data transforms registered into mmpretrain's ``TRANSFORMS`` registry."""
from .block_mask import iBOTBlockMaskGenerator
from .multi_crop import iBOTMultiCrop
from .rotation import RandomRotationViews
from .views import ApplyToViews, LoadViews

__all__ = ['iBOTBlockMaskGenerator', 'iBOTMultiCrop']
__all__ += ['LoadViews', 'ApplyToViews']
__all__ += ['RandomRotationViews']
