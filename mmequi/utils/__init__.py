from .rng import preserved_rng
from .synthetic import full_precision, synthetic_batch, train_pipeline

__all__ = ['full_precision', 'synthetic_batch', 'train_pipeline',
           'preserved_rng']
