from .labels import check_class_labels
from .rng import preserved_rng
from .synthetic import (IMAGENET_LIKE_SIZES, full_precision,
                        photo_like_image, synthetic_batch, train_pipeline,
                        write_photo_jpegs)

__all__ = ['full_precision', 'synthetic_batch', 'train_pipeline',
           'preserved_rng', 'write_photo_jpegs', 'photo_like_image',
           'IMAGENET_LIKE_SIZES', 'check_class_labels']
