from .equivariance_r2 import EquivarianceR2, r2_mean, r2_sie
from .knn import (KNNAccuracy, class_ranks, knn_accuracy, knn_classify,
                  topk_accuracy)

__all__ = ['EquivarianceR2', 'r2_mean', 'r2_sie', 'KNNAccuracy',
           'class_ranks', 'knn_accuracy', 'knn_classify', 'topk_accuracy']

from .mean_corner_error import MeanCornerError, corner_errors  # noqa: E402

__all__ += ['MeanCornerError', 'corner_errors']
