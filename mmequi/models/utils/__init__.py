from .easy_rescue import EasySampleRescue, StrongAugment
from .feature_cache import CacheMismatchError, FeatureCache

__all__ = ['EasySampleRescue', 'StrongAugment', 'FeatureCache',
           'CacheMismatchError']
