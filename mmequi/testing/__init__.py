"""Tiny dataset fixtures in the real on-disk formats (for tests and demos)."""
from .ade20k import make_ade20k  # noqa: F401
from .nyu import make_nyu  # noqa: F401
from .mpii import make_mpii  # noqa: F401
from .coco import make_coco  # noqa: F401
from .classification import make_classification_fixture  # noqa: F401
