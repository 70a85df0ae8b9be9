"""What the real-format fixture writers (``make_ade20k``, ``make_mpii``,
``make_nyu``) share: their argument checks and the checked image write."""
from typing import Dict, Optional, Sequence, Tuple

import cv2
import numpy as np


def check_split_sizes(writer: str, counts: Dict[str, int],
                      size: Sequence[int], min_side: int = 1
                      ) -> Tuple[int, int]:
    """Check a fixture writer's two split counts (each >= 1) and its
    ``(height, width)`` (each >= ``min_side``); return ``(h, w)``.

    Raises:
        ValueError: naming ``writer``, the two count arguments and the
            values, e.g. ``make_nyu: num_train and num_test must be >= 1,
            got 0 and 2``.
    """
    (name_a, a), (name_b, b) = counts.items()
    if int(a) < 1 or int(b) < 1:
        raise ValueError(f'{writer}: {name_a} and {name_b} must be >= 1, '
                         f'got {a} and {b}')
    entries = 'positive entries' if min_side == 1 else \
        f'entries >= {min_side}'
    if len(size) != 2 or min(int(s) for s in size) < min_side:
        raise ValueError(f'{writer}: size must be (height, width) with '
                         f'{entries}, got {size!r}')
    return int(size[0]), int(size[1])


def write_image(writer: str, path: str, img: np.ndarray,
                jpeg_quality: Optional[int] = None) -> None:
    """``cv2.imwrite`` (JPEG at ``jpeg_quality`` if given); an ``OSError``
    naming ``writer`` and ``path`` if it fails."""
    params = [] if jpeg_quality is None else \
        [cv2.IMWRITE_JPEG_QUALITY, jpeg_quality]
    if not cv2.imwrite(path, img, params):
        raise OSError(f'{writer}: could not write {path}')
