from .synthetic import synthetic_batch, train_pipeline

__all__ = ['synthetic_batch', 'train_pipeline']
