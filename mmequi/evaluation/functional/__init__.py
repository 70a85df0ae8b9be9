"""Functions (no registry entries) that evaluate fixed features."""
from .probe_heads import fit_linear_probe, ridge_r2

__all__ = ['fit_linear_probe', 'ridge_r2']
