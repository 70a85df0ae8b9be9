from .easy_rescue import EasySampleRescue, StrongAugment
from .feature_cache import CacheMismatchError, FeatureCache
from .pooling import FEATURES, pool_features

__all__ = ['EasySampleRescue', 'StrongAugment', 'FeatureCache',
           'CacheMismatchError', 'FEATURES', 'pool_features']
