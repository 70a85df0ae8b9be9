"""Run code without disturbing the global random generators."""
import contextlib
import random
from typing import Iterator

import numpy as np
import torch

__all__ = ['preserved_rng']


@contextlib.contextmanager
def preserved_rng() -> Iterator[None]:
    """Restore Python's, numpy's and torch's (CPU, all CUDA devices)
    global random states on exit (used by hooks and diagnostics that must
    leave a training run bit-identical)."""
    py_state = random.getstate()
    np_state = np.random.get_state()
    torch_state = torch.get_rng_state()
    cuda = torch.cuda.is_available() and torch.cuda.is_initialized()
    cuda_states = torch.cuda.get_rng_state_all() if cuda else None
    try:
        yield
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)
        torch.set_rng_state(torch_state)
        if cuda_states is not None:
            torch.cuda.set_rng_state_all(cuda_states)
