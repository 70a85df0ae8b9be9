from .easy_rescue import EasySampleRescue, StrongAugment
from .param_transforms import (PARAM_TRANSFORMS, ParamTransform,
                               build_param_transform)

__all__ = ['EasySampleRescue', 'StrongAugment', 'PARAM_TRANSFORMS',
           'ParamTransform', 'build_param_transform']
