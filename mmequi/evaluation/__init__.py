"""Metrics registered into mmpretrain's ``METRICS`` registry."""
from .metrics import *  # noqa: F401,F403
