from .toy_shapes import SHAPES, make_toy_shapes
from .transforms import iBOTBlockMaskGenerator, iBOTMultiCrop
from .three_die_bench import (ThreeDIEBench, color_difference,
                              euler_to_quaternion,
                              relative_rotation_quaternion)

__all__ = [
    'SHAPES', 'make_toy_shapes', 'iBOTBlockMaskGenerator', 'iBOTMultiCrop'
]
__all__ += [
    'ThreeDIEBench', 'euler_to_quaternion', 'relative_rotation_quaternion',
    'color_difference'
]
