"""Metrics registered into mmpretrain's ``METRICS`` registry, and the
reconstruction diagnostic of the method's decoders."""
from .metrics import *  # noqa: F401,F403
from .recon_diagnostic import BASELINES, recon_diagnostic  # noqa: F401
