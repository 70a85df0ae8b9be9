from .easy_rescue import EasySampleRescue, StrongAugment
from .feature_cache import CacheMismatchError, FeatureCache
from .param_transforms import (PARAM_TRANSFORMS, ParamTransform,
                               build_param_transform)
from .pooling import FEATURES, pool_features

__all__ = ['EasySampleRescue', 'StrongAugment', 'FeatureCache',
           'CacheMismatchError', 'PARAM_TRANSFORMS',
           'ParamTransform', 'build_param_transform', 'FEATURES',
           'pool_features']
