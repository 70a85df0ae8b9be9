from .toy_shapes import SHAPES, make_toy_shapes

__all__ = ['SHAPES', 'make_toy_shapes']
