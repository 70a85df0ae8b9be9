"""The only place where mmequi changes third-party code.

Each submodule holds one family of patches; every patch says why it exists
and which upstream issue or source line it works around.

* :mod:`.mmcv_ops`     -- stand-in ``mmcv._ext`` backed by :mod:`mmequi.ops`
  when compiled mmcv is missing (mmcv-lite). It imports :mod:`mmequi.ops`;
  :mod:`mmequi.ops` imports nothing from here (nor mmcv), so either can be
  imported first (tests/compat/test_mmcv_ops.py).
* :mod:`.checkpoint`   -- ``torch.load(weights_only=True)`` with an explicit
  allow-list of the types mmengine writes; atomic checkpoint writes.
* :mod:`.checkpoint_schemes` -- the same weights-only loader for every
  ``CheckpointLoader`` scheme (``http(s)://``, ``torchvision://``,
  ``open-mmlab://``, ``s3://`` ...) and ``torch.hub.load_state_dict_from_url``.
* :mod:`.resume`       -- checkpoint rotation after the new save, atomic
  ``last_checkpoint``, resume fallback, stale temp files removed, exact
  mid-epoch resume, finished runs not extended.
* :mod:`.distributed`  -- CPU/gloo launch, DDP without ``device_ids`` for CPU
  modules, SyncBN on CPU tensors.
* :mod:`.amp`          -- ``AmpOptimWrapper`` on CPU (bf16 autocast).

:func:`apply_compat` is idempotent and is called by ``import mmequi``.
On a machine with compiled mmcv and CUDA the patches change nothing.
"""
from typing import Dict

_APPLIED = False
_STATE: Dict[str, str] = {}


def apply_compat() -> None:
    """Apply every compatibility patch once (idempotent)."""
    global _APPLIED
    if _APPLIED:
        return
    from . import (amp, checkpoint, checkpoint_schemes, distributed,
                   mmcv_ops, resume)
    _STATE['mmcv_ops'] = mmcv_ops.install()
    _STATE['checkpoint'] = checkpoint.install()
    _STATE['checkpoint_schemes'] = checkpoint_schemes.install()
    _STATE['resume'] = resume.install()
    _STATE['distributed'] = distributed.install()
    _STATE['amp'] = amp.install()
    _APPLIED = True


def describe() -> Dict[str, str]:
    """What each patch family did on this machine (for logs and env dumps)."""
    return dict(_STATE)


__all__ = ['apply_compat', 'describe']
