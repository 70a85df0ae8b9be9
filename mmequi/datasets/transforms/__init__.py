"""Data transforms registered into mmpretrain's ``TRANSFORMS`` registry."""
from .block_mask import iBOTBlockMaskGenerator
from .multi_crop import iBOTMultiCrop

__all__ = ['iBOTBlockMaskGenerator', 'iBOTMultiCrop']
