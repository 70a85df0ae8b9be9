"""Loops registered into mmpretrain's ``LOOPS`` and their feature
gathering helpers."""
from .feature_gather import (extract_features, gather_by_index,
                             merge_by_index)
from .knn_loop import KNNTestLoop

__all__ = ['KNNTestLoop', 'extract_features', 'gather_by_index',
           'merge_by_index']
