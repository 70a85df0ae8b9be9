"""Reading checkpoints, picking the weights of one network, strict loading.

Every place in mmequi that reads weights out of a checkpoint (the probes,
the k-NN test loop, the homography estimator's key check, the backbone
exporter and the benchmark runner) goes through this module:

1. :func:`read_checkpoint` -- the whole checkpoint, through mmengine's
   ``CheckpointLoader`` so that every scheme (local path, ``http(s)://``,
   ``torchvision://``, ``s3://`` ...) is read one way; every scheme ends in
   :func:`mmequi.compat.checkpoint.load_checkpoint_file`
   (``torch.load(weights_only=True)`` plus an allow-list; pickles that
   would run code are refused; see :mod:`mmequi.compat.checkpoint_schemes`).
   That function stays the only caller of ``torch.load`` in mmequi.
2. :func:`select_weights` -- the sub-state-dict of one network, the
   prefix stripped: the EMA ``'teacher'`` or the ``'student'`` backbone of
   any layout below, or the keys under an explicit prefix.
3. :func:`load_strict` / :func:`check_keys` -- a strict key diff
   (missing, unexpected and shape-mismatched keys, each listed up to
   :data:`MAX_LISTED`) raised as one :class:`CheckpointMismatchError` that
   names the file; then ``module.load_state_dict(strict=True)``.

Key layouts (what ``select_weights(ckpt, source)`` returns in brackets)::

    mmequi / mmengine runner checkpoint of iBOT (+ equi-recon)
        {'state_dict': {'backbone.layers.0.ln1.weight', ...      student
                        'neck.*', 'head.*',                      student head
                        'teacher.backbone.layers.0.ln1.weight',  EMA teacher
                        'teacher.neck.*'},
         'meta': ..., 'message_hub': ..., 'optimizer': ...}
        'teacher'           -> teacher.backbone.*  -> {'layers.0.ln1.weight'}
        'student'           -> backbone.*
        'teacher.neck.'     -> teacher.neck.*      (explicit prefix)
    runner checkpoint without an EMA teacher (VICReg, SIE, a classifier)
        {'state_dict': {'backbone.*', 'neck.*', ...}}
        'student' or 'backbone.'; 'teacher' is an error saying so
    official iBOT / DINO release (timm keys, DDP student)
        {'teacher': {'backbone.blocks.0.norm1.weight', 'head.*'},
         'student': {'module.backbone.blocks.0.norm1.weight', ...},
         'args': argparse.Namespace (needs trust_pickle), 'epoch': ...}
        'teacher' / 'student' -> that dict, module. and backbone. stripped
    exported backbone (tools/model_converters/extract_backbone.py),
    mmpretrain ViT keys
        {'state_dict': {'cls_token', 'pos_embed',
                        'patch_embed.projection.weight',
                        'layers.0.attn.qkv.weight', ..., 'ln1.weight'},
         'meta': {...}}
        'teacher', 'student' or '' -> the state dict as it is
    timm / DeiT classifier: {'model': {'blocks.0.norm1.weight', 'head.*'}}
        'teacher' or 'student' -> the dict under 'model'

A leading DDP ``module.`` is removed from every key first, as mmengine's
``load_checkpoint`` does (``revise_keys``). Renaming between mmpretrain,
mmseg and timm ViT keys is :mod:`mmequi.models.utils.vit_convert`'s job.

Example::

    ckpt = read_checkpoint('work_dirs/ibot/epoch_100.pth')
    state = select_weights(ckpt, 'teacher', file='epoch_100.pth')
    load_strict(model.backbone, state, file='epoch_100.pth',
                what='the k-NN backbone', resizable=('pos_embed', ))
"""
from typing import (Any, Collection, Dict, List, Mapping, Optional,
                    Sequence, Tuple)

import torch
import torch.nn as nn

__all__ = [
    'CheckpointMismatchError', 'MAX_LISTED', 'ROLES', 'RUNNER_PREFIXES',
    'read_checkpoint', 'select_weights', 'locate_weights', 'backbone_prefix',
    'key_prefixes', 'check_keys', 'load_strict'
]

#: Networks of a teacher-student checkpoint that :func:`select_weights`
#: finds by layout (any other source is a literal key prefix).
ROLES = ('teacher', 'student')
#: Backbone key prefix of each role in an mmequi runner checkpoint.
RUNNER_PREFIXES = {'teacher': 'teacher.backbone.', 'student': 'backbone.'}
#: Keys listed per kind (missing / unexpected / shape) in an error.
MAX_LISTED = 8


class CheckpointMismatchError(KeyError, ValueError):
    """A checkpoint lacks the asked-for weights or does not fit a module.

    A ``KeyError`` and a ``ValueError`` (the types the loaders raised
    before), printed without ``KeyError``'s quoting.
    """

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ''


def read_checkpoint(path: str, *, map_location: Any = 'cpu',
                    trust_pickle: bool = False) -> Dict[str, Any]:
    """The whole checkpoint at ``path`` (a local path or any scheme that
    mmengine's ``CheckpointLoader`` knows, e.g. ``https://``).

    Args:
        path: file path or URL.
        map_location: as for :func:`torch.load`.
        trust_pickle: unpickle with ``weights_only=False`` (runs code from
            the file; for local files the user vouches for, e.g. official
            DINO/iBOT checkpoints storing an ``argparse.Namespace``).

    Raises:
        FileNotFoundError: a local path that does not exist.
        mmequi.compat.checkpoint.UnsafeCheckpointError: the pickle needs
            globals outside the allow-list (and ``trust_pickle`` is False);
            for a URL the error names the URL and the cached file.
        mmequi.compat.checkpoint.IncompleteCheckpointError: the file is
            truncated or not a torch checkpoint.
        TypeError: the file does not hold a dict.
    """
    from mmengine.runner.checkpoint import CheckpointLoader

    from ..compat.checkpoint import load_checkpoint_file
    if trust_pickle:
        if '://' in path:
            raise ValueError(f'trust_pickle is for local files only, got '
                             f'{path}')
        ckpt = load_checkpoint_file(path, map_location, trust_pickle=True)
    else:
        ckpt = CheckpointLoader.load_checkpoint(
            path, map_location=map_location)
    if not isinstance(ckpt, dict):
        raise TypeError(f'{path}: expected a dict checkpoint (a state dict '
                        "or {'state_dict': ...}), got "
                        f'{type(ckpt).__name__}')
    return ckpt


def _strip(state: Mapping[str, Any], prefix: str) -> Dict[str, Any]:
    return {k[len(prefix):]: v for k, v in state.items()
            if k.startswith(prefix)}


def _unwrap_ddp(state: Mapping[str, Any]) -> Dict[str, Any]:
    """Remove a leading ``module.`` (a DDP-wrapped model's keys)."""
    return {k[len('module.'):] if k.startswith('module.') else k: v
            for k, v in state.items()}


def _tensors(state: Mapping[str, Any]) -> Dict[str, torch.Tensor]:
    return {k: v for k, v in state.items() if isinstance(v, torch.Tensor)}


def _listed(keys: Sequence[str]) -> str:
    """``['a', 'b']`` or the first :data:`MAX_LISTED` and how many more."""
    keys = list(keys)
    if len(keys) <= MAX_LISTED:
        return repr(keys)
    return (repr(keys[:MAX_LISTED])[:-1] +
            f', ... +{len(keys) - MAX_LISTED} more]')


def key_prefixes(state: Mapping[str, Any]) -> List[str]:
    """The first one and two dotted components of the keys, e.g.
    ``['backbone.', 'teacher.', 'teacher.backbone.']`` (for errors)."""
    out = set()
    for key in state:
        parts = key.split('.')
        for n in (1, 2):
            if len(parts) > n:
                out.add('.'.join(parts[:n]) + '.')
    return sorted(out)


def _state_dict(checkpoint: Mapping[str, Any], file: str) -> Dict[str, Any]:
    """``checkpoint['state_dict']`` if present, else the checkpoint."""
    state = checkpoint.get('state_dict', checkpoint) \
        if isinstance(checkpoint, Mapping) else None
    if not isinstance(state, Mapping):
        raise TypeError(f'{file}: not a state-dict checkpoint (got '
                        f'{type(state).__name__})')
    return _unwrap_ddp(state)


def _contents(checkpoint: Mapping[str, Any], file: str) -> str:
    """What a checkpoint holds, for errors: its state dict's key prefixes
    or else its top-level keys."""
    state = _state_dict(checkpoint, file)
    prefixes = key_prefixes(state)
    if prefixes:
        return f'key prefixes are {_listed(prefixes)}'
    return f'top-level keys are {_listed(sorted(map(str, checkpoint)))}'


def _by_role(checkpoint: Mapping[str, Any], source: str,
             file: str) -> Tuple[Dict[str, Any], str]:
    """The teacher or student backbone of any layout of the module
    docstring, and that layout in words."""
    if isinstance(checkpoint.get('teacher'), dict) and \
            isinstance(checkpoint.get('student'), dict):
        state = _unwrap_ddp(checkpoint[source])
        layout = f'official iBOT/DINO checkpoint [{source!r}]'
        if any(k.startswith('backbone.') for k in state):
            state = _strip(state, 'backbone.')
        return state, layout
    state, layout = None, 'bare state dict'
    for key in ('state_dict', 'model', 'teacher'):
        if isinstance(checkpoint.get(key), dict):
            state, layout = checkpoint[key], f'[{key!r}]'
            break
    state = _unwrap_ddp(checkpoint if state is None else state)
    if any(k.startswith(RUNNER_PREFIXES['teacher']) for k in state):
        prefix = RUNNER_PREFIXES[source]
        return _strip(state, prefix), f'{layout} of an mmequi model, ' \
            f'{prefix}*'
    if any(k.startswith('backbone.') for k in state):
        if source == 'teacher' and layout != "['teacher']":
            raise CheckpointMismatchError(
                f'{file}: has backbone.* but no teacher.backbone.* (no EMA '
                'teacher: VICReg, SIE or a classifier); pick the student '
                "(source='student', --source student)")
        return _strip(state, 'backbone.'), f'{layout}, backbone.*'
    return state, layout  # a backbone-only state dict


def locate_weights(checkpoint: Mapping[str, Any], source: str, *,
                   file: str = '<checkpoint>', hint: str = ''
                   ) -> Tuple[Dict[str, torch.Tensor], str]:
    """:func:`select_weights` and the layout it found, in words (e.g.
    ``"['state_dict'] of an mmequi model, teacher.backbone.*"``)."""
    if source in ROLES:
        state, layout = _by_role(checkpoint, source, file)
    elif source == '' or source.endswith('.'):
        state = _state_dict(checkpoint, file)
        layout = f'[{"state_dict"!r}]' if 'state_dict' in checkpoint \
            else 'bare state dict'
        if source:
            state = _strip(state, source)
            layout += f', {source}*'
    else:
        raise ValueError(f'source={source!r}: use one of {ROLES} or a key '
                         "prefix ending with '.' ('' for none)")
    state = _tensors(state)
    if not state:
        raise CheckpointMismatchError(
            f'{file} has no tensors for source={source!r} ({layout}); its '
            f'{_contents(checkpoint, file)}' + (f'. {hint}' if hint else ''))
    return state, layout


def select_weights(checkpoint: Mapping[str, Any], source: str, *,
                   file: str = '<checkpoint>', hint: str = ''
                   ) -> Dict[str, torch.Tensor]:
    """The tensors of one network of ``checkpoint``, its prefix stripped.

    Args:
        checkpoint: a checkpoint dict (:func:`read_checkpoint`).
        source: ``'teacher'`` (the EMA teacher backbone) or ``'student'``
            (the student backbone) of any layout of the module docstring; a
            backbone-only checkpoint is returned as it is for either. Any
            other value is a literal key prefix ending with ``'.'`` (e.g.
            ``'teacher.backbone.'``, ``'teacher.neck.'``) under the
            checkpoint's ``state_dict``; ``''`` takes the whole state dict.
        file: the checkpoint's name, for errors.
        hint: appended to the error (what the caller's user can change).

    Example: ``{'state_dict': {'teacher.backbone.ln1.weight': w, ...}}``
    with ``source='teacher'`` or ``'teacher.backbone.'`` gives
    ``{'ln1.weight': w, ...}``.

    Raises:
        CheckpointMismatchError: no tensor under ``source`` (the error lists
            the key prefixes the checkpoint has), or ``'teacher'`` asked of
            a checkpoint without an EMA teacher.
        ValueError: ``source`` is neither a role nor a prefix.
    """
    return locate_weights(checkpoint, source, file=file, hint=hint)[0]


def backbone_prefix(checkpoint: Mapping[str, Any], *,
                    file: str = '<checkpoint>') -> str:
    """``'teacher.backbone.'`` if the runner checkpoint has an EMA teacher
    (iBOT, as iBOT evaluates), else ``'backbone.'`` (VICReg, SIE)."""
    state = _state_dict(checkpoint, file)
    for role in ROLES:
        prefix = RUNNER_PREFIXES[role]
        if any(k.startswith(prefix) for k in state):
            return prefix
    raise CheckpointMismatchError(
        f'{file}: no teacher.backbone.* or backbone.* weights; its '
        f'{_contents(checkpoint, file)}')


def check_keys(expected: Mapping[str, torch.Tensor],
               given: Mapping[str, torch.Tensor], *, file: str, what: str,
               prefix: Optional[str] = None,
               ignore_unexpected: Collection[str] = (),
               allow_unexpected: bool = False,
               resizable: Collection[str] = (), hint: str = '') -> None:
    """Raise if ``given`` (checkpoint tensors) does not fit ``expected``
    (a module's ``state_dict()``) key for key and shape for shape.

    Args:
        expected: the module's state dict.
        given: the checkpoint's tensors, prefix already stripped.
        file, what, prefix: named in the error (``what``: the module, e.g.
            ``'the probe ScaleBackbone'``; ``prefix``: the stripped one).
        ignore_unexpected: checkpoint keys the module may lack (e.g. iBOT's
            ``mask_token``).
        allow_unexpected: only missing keys and shapes are errors.
        resizable: keys whose shape the module's own load hook adapts
            (mmpretrain's ViT resizes ``pos_embed`` to its grid); their
            shapes are not compared.
        hint: appended to the error.

    Raises:
        CheckpointMismatchError: e.g. ``ckpt.pth (prefix 'backbone.') does
            not fit the probe ViT: 1 missing keys ['ln1.weight']; 1
            unexpected keys ['head.fc.weight']; 1 shape mismatches
            ['pos_embed': checkpoint (1, 5, 8) vs model (1, 17, 8)]``.
    """
    missing = sorted(set(expected) - set(given))
    unexpected = [] if allow_unexpected else sorted(
        k for k in set(given) - set(expected) if k not in ignore_unexpected)
    shapes = sorted(k for k in set(expected) & set(given)
                    if k not in resizable and
                    tuple(expected[k].shape) != tuple(given[k].shape))
    if not (missing or unexpected or shapes):
        return
    parts = []
    if missing:
        parts.append(f'{len(missing)} missing keys {_listed(missing)}')
    if unexpected:
        parts.append(f'{len(unexpected)} unexpected keys '
                     f'{_listed(unexpected)}')
    if shapes:
        shown = [f'{k!r}: checkpoint {tuple(given[k].shape)} vs model '
                 f'{tuple(expected[k].shape)}' for k in shapes[:MAX_LISTED]]
        more = f', ... +{len(shapes) - MAX_LISTED} more' \
            if len(shapes) > MAX_LISTED else ''
        parts.append(f'{len(shapes)} shape mismatches '
                     f'[{", ".join(shown)}{more}]')
    where = f' (prefix {prefix!r})' if prefix is not None else ''
    raise CheckpointMismatchError(
        f'{file}{where} does not fit {what}: ' + '; '.join(parts) +
        (f'. {hint}' if hint else ''))


def load_strict(module: nn.Module, state: Mapping[str, torch.Tensor], *,
                file: str, what: Optional[str] = None,
                prefix: Optional[str] = None,
                ignore_unexpected: Collection[str] = (),
                resizable: Collection[str] = (), hint: str = '') -> int:
    """:func:`check_keys` against ``module.state_dict()``, then
    ``module.load_state_dict(strict=True)`` with the module's keys (the
    ignored unexpected ones left out). Returns the number of tensors
    loaded. ``what`` defaults to the module's class name."""
    own = module.state_dict()
    check_keys(own, state, file=file,
               what=what or type(module).__name__, prefix=prefix,
               ignore_unexpected=ignore_unexpected, resizable=resizable,
               hint=hint)
    module.load_state_dict({k: state[k] for k in own}, strict=True)
    return len(own)
