"""Export the ViT backbone of a pretraining checkpoint for downstream use.

Reads an mmequi/mmengine checkpoint (``teacher.backbone.*`` / ``backbone.*``),
an official iBOT or DINO checkpoint (``teacher`` / ``student`` dicts with
timm keys), or a timm / mmpretrain / mmseg backbone state dict, and writes
``{'state_dict': backbone tensors, 'meta': plain dict}`` (loadable with
``torch.load(..., weights_only=True)``) in the key names of

* ``mmpretrain`` (default): ``mmpretrain.VisionTransformer`` -- our mmseg,
  mmdet and mmpose benchmark configs and mmpretrain's;
* ``mmseg``: mmseg's own ``VisionTransformer`` (its upstream ViT configs;
  set ``model.backbone.patch_bias=True`` there, see
  :mod:`mmequi.models.utils.vit_convert`);
* ``timm``: ``timm.models.vision_transformer.VisionTransformer``.

``--drop-cls-token`` removes ``cls_token`` and the cls entry of
``pos_embed`` (for ``with_cls_token=False`` backbones: ViTPose configs).
``--safetensors`` writes a ``.safetensors`` file instead (meta as JSON in
its metadata); mmengine's ``Pretrained`` init cannot read that format.

Examples::

    python tools/model_converters/extract_backbone.py \\
        work_dirs/ibot/epoch_800.pth ibot_vit-s_teacher.pth
    python tools/model_converters/extract_backbone.py \\
        work_dirs/ibot/epoch_800.pth ibot_vit-s_mmseg.pth --format mmseg
    python tools/model_converters/extract_backbone.py \\
        checkpoint.pth ibot_official_vit-s.pth   # official iBOT release
"""
import argparse
import json
import os
import os.path as osp
import pickle
import time
from typing import List, Optional

import torch

import mmequi  # (safe checkpoint loading)
from mmequi.models.utils.vit_convert import (FORMATS, convert_vit_keys,
                                             drop_cls_token, extract_backbone,
                                             vit_arch)
from mmequi.utils.checkpoint_io import read_checkpoint  # noqa: E402


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Export a ViT backbone (mmpretrain/mmseg/timm keys)')
    parser.add_argument('checkpoint', help='pretraining checkpoint')
    parser.add_argument('out', help='output file (.pth or .safetensors)')
    parser.add_argument('--source', choices=['teacher', 'student'],
                        default='teacher',
                        help='which network of a teacher-student checkpoint '
                        '(default: teacher, as iBOT/DINO evaluate)')
    parser.add_argument('--format', choices=FORMATS, default='mmpretrain',
                        help='key names of the output (default mmpretrain)')
    parser.add_argument('--drop-cls-token', action='store_true',
                        help='remove cls_token and the cls entry of '
                        'pos_embed (with_cls_token=False backbones)')
    parser.add_argument('--safetensors', action='store_true',
                        help='write safetensors instead of a torch file')
    parser.add_argument('--force', action='store_true',
                        help='overwrite OUT if it exists')
    parser.add_argument(
        '--trust-pickle', action='store_true',
        help='load CHECKPOINT with weights_only=False (runs its pickle: only '
        'for files you trust, e.g. official DINO/iBOT full checkpoints that '
        'store argparse.Namespace args); refused by default')
    return parser.parse_args(argv)


def export(checkpoint: str, out: str, source: str = 'teacher',
           fmt: str = 'mmpretrain', no_cls: bool = False,
           safetensors: bool = False, force: bool = False,
           trust_pickle: bool = False) -> dict:
    """Write the backbone of ``checkpoint`` to ``out``; returns the meta."""
    if not osp.isfile(checkpoint):
        raise FileNotFoundError(f'{checkpoint}: no such checkpoint file')
    if osp.exists(out) and not force:
        raise FileExistsError(f'{out} exists; pass --force to overwrite')
    if osp.abspath(out) == osp.abspath(checkpoint):
        raise ValueError('OUT must differ from CHECKPOINT')
    try:
        ckpt = read_checkpoint(checkpoint, trust_pickle=trust_pickle)
    except pickle.UnpicklingError as exc:
        raise pickle.UnpicklingError(
            f'{checkpoint}: refused by weights_only loading ({exc}). If you '
            f'trust this file, pass --trust-pickle') from exc
    sd, info = extract_backbone(ckpt, source=source, name=checkpoint)
    if no_cls:
        sd = drop_cls_token(sd)
    arch = vit_arch(sd)
    sd = convert_vit_keys(sd, 'mmpretrain', fmt)
    sd = {k: v.detach().clone().contiguous() for k, v in sd.items()}
    meta = dict(
        source_checkpoint=osp.abspath(checkpoint), source=source,
        source_layout=info['layout'], source_format=info['source_format'],
        dropped_keys=info['dropped_keys'], format=fmt,
        with_cls_token=not no_cls, arch=arch,
        mmequi_version=mmequi.__version__,
        time=time.strftime('%Y-%m-%d %H:%M:%S'))
    src_meta = ckpt.get('meta') if isinstance(ckpt.get('meta'), dict) \
        else {}
    for key in ('epoch', 'iter', 'cfg'):
        if isinstance(src_meta.get(key), (int, str)):
            meta[f'source_{key}'] = src_meta[key]
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    if safetensors:
        from safetensors.torch import save_file
        save_file(sd, out, metadata={'meta': json.dumps(meta)})
    else:
        torch.save({'state_dict': sd, 'meta': meta}, out)
    return meta


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    meta = export(args.checkpoint, args.out, args.source, args.format,
                  args.drop_cls_token, args.safetensors, args.force,
                  args.trust_pickle)
    arch = meta['arch']
    print(f'{args.out}: {arch["num_layers"]} blocks x {arch["embed_dims"]} '
          f'dims, patch {arch["patch_size"]}, {arch["pos_embed_tokens"]} '
          f'pos-embed tokens, {meta["format"]} keys; from '
          f'{meta["source_layout"]} ({meta["source_format"]} keys); dropped '
          f'{meta["dropped_keys"] or "nothing"}')


if __name__ == '__main__':
    main()
