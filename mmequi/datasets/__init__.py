from .toy_shapes import SHAPES, make_toy_shapes
from .transforms import iBOTBlockMaskGenerator, iBOTMultiCrop

__all__ = [
    'SHAPES', 'make_toy_shapes', 'iBOTBlockMaskGenerator', 'iBOTMultiCrop'
]
