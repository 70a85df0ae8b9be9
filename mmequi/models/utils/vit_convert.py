"""ViT checkpoint key names across mmpretrain, mmseg and timm, and backbone
extraction from pretraining checkpoints (ours, official iBOT/DINO, timm).

Why: an SSL checkpoint that loads with ``strict=False`` under the wrong key
names silently fine-tunes a random backbone (mmseg's own
``VisionTransformer``, and every ``init_cfg=dict(type='Pretrained')`` in
mmengine, load with ``strict=False``). Every conversion here is a total
renaming: a key no rule knows is an error that names it, and dropped keys
(heads, iBOT's mask token) are listed in the export's ``meta``.

Key names of one ViT block ``i`` (no tensor changes: all three keep q, k, v
stacked in this order in one (3C, C) matrix, as ``nn.MultiheadAttention``'s
``in_proj_weight``)::

    mmpretrain VisionTransformer   mmseg VisionTransformer         timm VisionTransformer
    cls_token, pos_embed           cls_token, pos_embed            cls_token, pos_embed
    patch_embed.projection.*       patch_embed.projection.*  (1)   patch_embed.proj.*
    layers.i.ln1.*                 layers.i.ln1.*                  blocks.i.norm1.*
    layers.i.attn.qkv.weight       layers.i.attn.attn.in_proj_weight  blocks.i.attn.qkv.weight
    layers.i.attn.qkv.bias         layers.i.attn.attn.in_proj_bias    blocks.i.attn.qkv.bias
    layers.i.attn.proj.*           layers.i.attn.attn.out_proj.*   blocks.i.attn.proj.*
    layers.i.ln2.*                 layers.i.ln2.*                  blocks.i.norm2.*
    layers.i.ffn.layers.0.0.*      layers.i.ffn.layers.0.0.*       blocks.i.mlp.fc1.*
    layers.i.ffn.layers.1.*        layers.i.ffn.layers.1.*         blocks.i.mlp.fc2.*
    ln1.* (final norm)             ln1.* (final_norm=True)  (2)    norm.*

(1) mmseg's ``VisionTransformer`` defaults to ``patch_bias=False``: set
``model.backbone.patch_bias=True`` or the patch-embedding bias is dropped
(it then shows up as the only unexpected key). (2) with mmseg's
``final_norm=False`` (its upstream ViT configs) ``ln1.*`` is unused.
"""
import re
from typing import Dict, List, Optional, Tuple

import torch

from ...utils.checkpoint_io import ROLES, locate_weights

FORMATS = ('mmpretrain', 'mmseg', 'timm')

# (mmpretrain template, other template); {i} is a block index.
_RULES: Dict[str, List[Tuple[str, str]]] = {
    'timm': [
        ('cls_token', 'cls_token'),
        ('pos_embed', 'pos_embed'),
        ('patch_embed.projection.', 'patch_embed.proj.'),
        ('layers.{i}.ln1.', 'blocks.{i}.norm1.'),
        ('layers.{i}.attn.qkv.', 'blocks.{i}.attn.qkv.'),
        ('layers.{i}.attn.proj.', 'blocks.{i}.attn.proj.'),
        ('layers.{i}.ln2.', 'blocks.{i}.norm2.'),
        ('layers.{i}.ffn.layers.0.0.', 'blocks.{i}.mlp.fc1.'),
        ('layers.{i}.ffn.layers.1.', 'blocks.{i}.mlp.fc2.'),
        ('ln1.', 'norm.'),
    ],
    'mmseg': [
        ('cls_token', 'cls_token'),
        ('pos_embed', 'pos_embed'),
        ('patch_embed.projection.', 'patch_embed.projection.'),
        ('layers.{i}.ln1.', 'layers.{i}.ln1.'),
        ('layers.{i}.attn.qkv.weight', 'layers.{i}.attn.attn.in_proj_weight'),
        ('layers.{i}.attn.qkv.bias', 'layers.{i}.attn.attn.in_proj_bias'),
        ('layers.{i}.attn.proj.', 'layers.{i}.attn.attn.out_proj.'),
        ('layers.{i}.ln2.', 'layers.{i}.ln2.'),
        ('layers.{i}.ffn.layers.0.0.', 'layers.{i}.ffn.layers.0.0.'),
        ('layers.{i}.ffn.layers.1.', 'layers.{i}.ffn.layers.1.'),
        ('ln1.', 'ln1.'),
    ],
}
_RULES['mmpretrain'] = [(a, a) for a, _ in _RULES['timm']]


def _compile(template: str) -> 're.Pattern':
    exact = not template.endswith('.')
    body = re.escape(template).replace(r'\{i\}', r'(\d+)')
    return re.compile('^' + body + ('$' if exact else ''))


def _rename(key: str, rules: List[Tuple[str, str]], fmt: str) -> str:
    for src, dst in rules:
        match = _compile(src).match(key)
        if match:
            out = dst.replace('{i}', match.group(1)) if '{i}' in src else dst
            return out + key[match.end():]
    raise KeyError(f'ViT key {key!r} has no {fmt} counterpart (known '
                   f'prefixes: {[s for s, _ in rules]})')


def convert_vit_keys(state_dict: Dict[str, torch.Tensor], src: str,
                     dst: str) -> Dict[str, torch.Tensor]:
    """Rename the keys of a backbone-only ViT state dict from ``src`` to
    ``dst`` naming (``'mmpretrain'``, ``'mmseg'``, ``'timm'``); tensors are
    shared, not copied. Raises ``KeyError`` naming any key outside the
    table in the module docstring (heads must be removed first)."""
    for fmt in (src, dst):
        if fmt not in FORMATS:
            raise ValueError(f'unknown ViT key format {fmt!r}; expected one '
                             f'of {FORMATS}')
    to_mmpre = [(b, a) for a, b in _RULES[src]]
    out = {}
    for key, value in state_dict.items():
        k = _rename(key, to_mmpre, src)
        if dst != 'mmpretrain':
            k = _rename(k, _RULES[dst], dst)
        if k in out:
            raise KeyError(f'two keys map to {k!r} in {dst} format')
        out[k] = value
    return out


def detect_vit_format(keys) -> str:
    """'timm' (``blocks.i.``), 'mmseg' (``attn.attn.``) or 'mmpretrain'
    (``layers.i.``) from backbone-only keys."""
    keys = list(keys)
    if any(k.startswith('blocks.') for k in keys):
        return 'timm'
    if any('.attn.attn.' in k for k in keys):
        return 'mmseg'
    if any(k.startswith('layers.') for k in keys):
        return 'mmpretrain'
    raise ValueError(f'not a ViT backbone state dict (first keys: '
                     f'{keys[:5]})')


#: keys of a backbone that the plain mmpretrain ViT does not have, by source
#: naming: timm classifier head / iBOT student mask embedding / our iBOTViT
_DROPPABLE = ('head.', 'masked_embed', 'mask_token', 'fc_norm.')


def extract_backbone(checkpoint: dict, source: str = 'teacher',
                     name: str = '<checkpoint>'
                     ) -> Tuple[Dict[str, torch.Tensor], dict]:
    """Backbone weights (mmpretrain keys) of a pretraining checkpoint.

    The ``source`` network (``'teacher'`` or ``'student'``) is picked by
    :func:`mmequi.utils.checkpoint_io.select_weights`, which knows the
    layouts (``name`` is used in errors):

    * mmequi / mmengine runner checkpoint ``{'state_dict': ...}``: the
      teacher is ``teacher.backbone.*``, the student ``backbone.*``; a
      checkpoint without a teacher (VICReg, SIE, a classifier) needs
      ``source='student'``;
    * official iBOT / DINO full checkpoints ``{'teacher': ..., 'student':
      ...}`` with timm keys under ``backbone.`` (student also
      ``module.backbone.``);
    * backbone-only dicts, bare or under ``state_dict`` / ``model`` /
      ``teacher``, in timm, mmseg or mmpretrain naming (released
      ``checkpoint_teacher.pth``, DeiT/timm ViTs, our own exports).

    Then classifier heads and the mask token are dropped and the keys
    renamed to mmpretrain's. Returns ``(state_dict, info)``: ``info`` says
    the layout found, the source naming and the dropped keys.
    """
    if source not in ROLES:
        raise ValueError(f'source must be teacher or student, got {source!r}')
    if not isinstance(checkpoint, dict):
        raise TypeError(f'{name}: expected a dict checkpoint, got '
                        f'{type(checkpoint).__name__}')
    sd, layout = locate_weights(checkpoint, source, file=name)
    registers = [k for k in sd if k.split('.')[-1] == 'register_tokens']
    if registers:
        raise ValueError(
            f'{name}: the {source} backbone has register tokens '
            f'({registers[0]}, {tuple(sd[registers[0]].shape)}); the plain '
            'mmpretrain ViT has none and dropping them would change every '
            'feature. Build the transfer backbone as '
            "dict(type='iBOTViT', num_register_tokens=R, ...) and load the "
            'weights into it instead of exporting')
    dropped = sorted(k for k in sd if k.startswith(_DROPPABLE))
    sd = {k: v for k, v in sd.items() if k not in dropped}
    fmt = detect_vit_format(sd)
    info = dict(layout=layout, dropped_keys=dropped, source_format=fmt)
    return convert_vit_keys(sd, fmt, 'mmpretrain'), info


def drop_cls_token(state_dict: Dict[str, torch.Tensor]
                   ) -> Dict[str, torch.Tensor]:
    """Remove ``cls_token`` and the cls entry of ``pos_embed`` (1, 1+N, C)
    → (1, N, C), for backbones built with ``with_cls_token=False`` (ViTPose:
    mmpretrain's loader cannot resize a 1+N grid to 16x12 without a cls
    token and fails an assertion otherwise)."""
    if 'pos_embed' not in state_dict:
        raise KeyError('drop_cls_token: no pos_embed in the state dict')
    pos = state_dict['pos_embed']
    n = pos.shape[1] - 1
    if int(round(n ** 0.5)) ** 2 != n:
        raise ValueError(f'pos_embed {tuple(pos.shape)} is not 1 + a square '
                         f'grid: already without the cls entry?')
    out = {k: v for k, v in state_dict.items() if k != 'cls_token'}
    out['pos_embed'] = pos[:, 1:].clone()
    return out


def vit_arch(state_dict: Dict[str, torch.Tensor]) -> dict:
    """embed_dims / num_layers / patch_size / pos-embed grid read off an
    mmpretrain-key ViT state dict (for the export's meta)."""
    blocks = {int(m.group(1)) for m in
              (re.match(r'layers\.(\d+)\.', k) for k in state_dict) if m}
    proj = state_dict.get('patch_embed.projection.weight')
    pos: Optional[torch.Tensor] = state_dict.get('pos_embed')
    return dict(
        embed_dims=int(proj.shape[0]) if proj is not None else None,
        num_layers=max(blocks) + 1 if blocks else 0,
        patch_size=int(proj.shape[-1]) if proj is not None else None,
        pos_embed_tokens=int(pos.shape[1]) if pos is not None else None)
