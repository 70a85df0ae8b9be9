"""Time the official iBOT training step (bytedance/ibot, ``main_ibot.py``)
from a local copy of that repository, on a synthetic multi-crop batch.

The official code is NOT part of this project: point ``--ibot-root`` at a
checkout (e.g. ``git clone`` or an unpacked archive of bytedance/ibot). The
harness imports from it the ViT (``models.VisionTransformer``), the head
(``iBOTHead``), ``utils.MultiCropWrapper`` / ``get_params_groups`` /
``clip_gradients`` / ``cancel_gradients_last_layer`` and the loss
(``main_ibot.iBOTLoss``), builds student and teacher as ``train_ibot`` does,
and runs one iteration of ``train_one_epoch`` per step:

    teacher forward (no grad) of the global views; student forward of the
    global views with their masks, then of the local views; iBOTLoss; the
    loss's finiteness check (``loss.item()``, as the official loop does);
    zero_grad, backward, per-parameter gradient clipping (3.0),
    last-layer cancelling, AdamW step; the teacher's EMA update.

Left out: the learning-rate / weight-decay schedule writes (constant here),
the accuracy / ``concat_all_gather`` / ``MetricLogger`` logging, and the
data loader. Precision: fp32, or bf16 autocast without a GradScaler (the
official code uses fp16 + GradScaler on GPU; bf16 is what our configs use).

    python tools/analysis_tools/official_ibot_step.py --ibot-root DIR \
        [--arch vit_small] [--batch-size 2] [--device cpu] [--bf16] \
        [--iters 5] [--warmup 2] [--threads 2] [--json out.json]

Dependencies of the official code that may be missing here (no package
index is used): modules the official files import but the timed step never
calls get a stand-in in ``sys.modules`` while the code is imported, and the
harness lists which ones it used:

    tensorboardX  SummaryWriter (only in ``train_ibot``'s logging)
    timm          ``register_model`` (a no-op decorator), ``to_2tuple``,
                  ``trunc_normal_`` (torch's), ``DropPath`` (Swin only:
                  raises if built); the ViT itself imports only
                  ``register_model``
    sklearn, munkres  (only the unsupervised-classification evaluation)

A stand-in is used only when the real module cannot be imported (checked
on this machine with all four blocked: the official ViT-S step runs). The
official ``iBOTLoss.update_center`` calls ``torch.distributed.all_reduce``:
without a process group the harness gives the official module (only that
module) a ``dist`` whose ``all_reduce`` is the identity and whose world
size is 1, which is exactly what one process computes; our own models skip
the reduction the same way (mmengine's ``all_reduce`` without a group).
"""
import argparse
import contextlib
import importlib
import importlib.machinery
import math
import os.path as osp
import statistics
import sys
import time
import types
from typing import Callable, Dict, List, Sequence, Tuple

import torch

#: names the official repository imports as top-level modules; they are
#: imported from ``--ibot-root`` with any same-named module of ours hidden,
#: and removed from ``sys.modules`` afterwards
OFFICIAL_MODULES = ('main_ibot', 'utils', 'models', 'loader', 'evaluation')
#: the files the harness needs in ``--ibot-root``
REQUIRED_FILES = ('main_ibot.py', 'utils.py', 'models/__init__.py',
                  'models/head.py')
#: the official ViT factories (``models/vision_transformer.py``)
ARCHS = {'vit_tiny': (192, 12, 3), 'vit_small': (384, 12, 6),
         'vit_base': (768, 12, 12), 'vit_large': (1024, 24, 16)}


def _unavailable(what: str) -> Callable:
    def fail(*args, **kwargs):
        raise RuntimeError(
            f'{what} is a stand-in of official_ibot_step.py (the real '
            'package is not installed); the timed iBOT step does not use '
            'it. Install the package to run this part of the official code.')
    return fail


def _stand_in_modules() -> Dict[str, Dict[str, object]]:
    """module name -> attributes of its stand-in."""
    def to_2tuple(x):
        return tuple(x) if isinstance(x, (tuple, list)) else (x, x)

    drop_path = type('DropPath', (torch.nn.Module,), {
        '__init__': _unavailable('timm DropPath')})
    return {
        'tensorboardX': dict(SummaryWriter=_unavailable(
            'tensorboardX.SummaryWriter')),
        'timm': {}, 'timm.models': {},
        'timm.models.registry': dict(register_model=lambda fn: fn),
        'timm.models.layers': dict(DropPath=drop_path, to_2tuple=to_2tuple,
                                   trunc_normal_=torch.nn.init.trunc_normal_),
        'sklearn': dict(metrics=types.SimpleNamespace()),
        'munkres': dict(Munkres=_unavailable('munkres.Munkres')),
    }


def _importable(name: str) -> bool:
    try:
        importlib.import_module(name)
        return True
    except ImportError:
        return False


def check_root(root: str) -> None:
    """Raise ``FileNotFoundError`` naming ``root`` and the missing file
    unless ``root`` looks like a bytedance/ibot checkout."""
    if not osp.isdir(root):
        raise FileNotFoundError(
            f'--ibot-root {root!r} is not a directory; expected a local '
            'copy of the official bytedance/ibot repository (with '
            f'{", ".join(REQUIRED_FILES)})')
    missing = [f for f in REQUIRED_FILES if not osp.isfile(osp.join(root, f))]
    if missing:
        raise FileNotFoundError(
            f'--ibot-root {root!r} has no {", ".join(missing)}: expected a '
            'local copy of the official bytedance/ibot repository')


def _is_official(name: str) -> bool:
    return name.split('.')[0] in OFFICIAL_MODULES


@contextlib.contextmanager
def _official_import_context(root: str, stand_ins: List[str]):
    """``root`` first on ``sys.path``, our modules named like the official
    ones hidden, stand-ins for missing optional packages; all undone on
    exit (the imported official modules stay reachable from the objects
    taken out of them)."""
    saved_path = list(sys.path)
    hidden = {n: sys.modules.pop(n) for n in list(sys.modules)
              if _is_official(n)}
    added, replaced = [], {}
    for name, attrs in _stand_in_modules().items():
        if _importable(name):
            continue
        if name in sys.modules:  # a None entry: import blocked
            replaced[name] = sys.modules[name]
        module = types.ModuleType(name)
        module.__dict__.update(attrs)
        module.__stand_in__ = True
        # a spec without origin: importlib.util.find_spec (torch._dynamo
        # calls it for sklearn etc. at import) needs one
        module.__spec__ = importlib.machinery.ModuleSpec(name, None)
        sys.modules[name] = module
        added.append(name)
    for name in added:  # stand-in parents know their stand-in children
        parent, _, child = name.rpartition('.')
        if parent in added:
            setattr(sys.modules[parent], child, sys.modules[name])
    stand_ins.extend(n for n in added if n.split('.')[0] == n)
    sys.path.insert(0, root)
    try:
        yield
    finally:
        sys.path[:] = saved_path
        for n in [n for n in sys.modules if _is_official(n)]:
            del sys.modules[n]
        sys.modules.update(hidden)
        for name in added:
            sys.modules.pop(name, None)
        sys.modules.update(replaced)


def import_official(root: str) -> Tuple[types.ModuleType, List[str]]:
    """The official ``main_ibot`` module imported from ``root`` (its
    ``utils``, ``models`` reachable as attributes) and the names of the
    stand-in packages used (see the module docstring)."""
    root = osp.abspath(root)
    check_root(root)
    stand_ins: List[str] = []
    with _official_import_context(root, stand_ins):
        main_ibot = importlib.import_module('main_ibot')
    for attr in ('iBOTLoss', 'iBOTHead', 'utils', 'models'):
        if not hasattr(main_ibot, attr):
            raise AttributeError(
                f'{osp.join(root, "main_ibot.py")} has no {attr!r}: not '
                'the bytedance/ibot version this harness was written for')
    if not torch.distributed.is_available() or \
            not torch.distributed.is_initialized():
        main_ibot.dist = types.SimpleNamespace(
            all_reduce=lambda tensor, *a, **k: None,
            get_world_size=lambda *a, **k: 1)
    return main_ibot, stand_ins


class OfficialStep:
    """The official iBOT model, loss and optimizer on ``device`` with a
    fixed synthetic batch; ``step()`` runs one training iteration (see the
    module docstring).

    Args:
        main_ibot: the module from :func:`import_official`.
        batch_size: images per view.
        view_sizes: (H, W) of every view, global views first (e.g. 2 x
            (224, 224) then 10 x (96, 96)).
        num_global: how many of ``view_sizes`` are global (masked) views.
        vit: ``embed_dim``, ``depth``, ``num_heads``, ``mlp_ratio`` of the
            official ``VisionTransformer`` (patch 16, qkv bias).
        head: ``out_dim``, ``patch_out_dim``, ``hidden_dim``,
            ``bottleneck_dim``, ``shared_head``, ``norm_last_layer`` of
            the student's ``iBOTHead`` (the teacher's is shared, as in the
            official ``shared_head_teacher=True``).
        drop_path: the student's drop-path rate.
        bf16: bf16 autocast around the forward passes and the loss.
        mask_ratio: fraction of masked patches in each global view.
    """

    def __init__(self, main_ibot: types.ModuleType, batch_size: int,
                 view_sizes: Sequence[Tuple[int, int]], num_global: int,
                 device: torch.device, vit: Dict[str, float],
                 head: Dict[str, object], drop_path: float = 0.1,
                 bf16: bool = False, mask_ratio: float = 0.3,
                 patch_size: int = 16, clip_grad: float = 3.0,
                 momentum: float = 0.996, lr: float = 5e-4,
                 weight_decay: float = 0.04, seed: int = 0) -> None:
        utils, models = main_ibot.utils, main_ibot.models
        self.device, self.bf16 = device, bf16
        self.num_global, self.clip_grad = num_global, clip_grad
        self.momentum, self.utils = momentum, utils
        torch.manual_seed(seed)

        def vit_(**kw):
            return models.VisionTransformer(
                patch_size=patch_size, qkv_bias=True, return_all_tokens=True,
                embed_dim=int(vit['embed_dim']), depth=int(vit['depth']),
                num_heads=int(vit['num_heads']),
                mlp_ratio=float(vit.get('mlp_ratio', 4.0)), **kw)

        def head_():
            h = dict(head)
            return main_ibot.iBOTHead(
                int(vit['embed_dim']), h.pop('out_dim'),
                act='gelu', norm=None, **h)

        self.student = utils.MultiCropWrapper(
            vit_(drop_path_rate=drop_path, masked_im_modeling=True),
            head_()).to(device)
        teacher_head = {k: v for k, v in head.items()
                        if k not in ('norm_last_layer', 'shared_head')}
        self.teacher = utils.MultiCropWrapper(
            vit_(), main_ibot.iBOTHead(
                int(vit['embed_dim']), teacher_head.pop('out_dim'),
                act='gelu', norm=None, shared_head=True,
                **teacher_head)).to(device)
        self.teacher.load_state_dict(self.student.state_dict(), strict=False)
        for p in self.teacher.parameters():
            p.requires_grad = False
        out_dim = head['out_dim']
        self.loss = main_ibot.iBOTLoss(
            out_dim, out_dim, num_global, len(view_sizes) - num_global,
            0.04, 0.07, 0.04, 0.07, 30, 100).to(device)
        self.optimizer = torch.optim.AdamW(
            utils.get_params_groups(self.student), lr=lr,
            weight_decay=weight_decay)
        names_t = dict(self.teacher.named_parameters())
        self.pairs = [(p, names_t[n]) for n, p in
                      self.student.named_parameters() if n in names_t]

        g = torch.Generator().manual_seed(seed)
        self.images = [torch.randn(batch_size, 3, h, w, generator=g)
                       .to(device) for h, w in view_sizes]
        self.masks = [(torch.rand(batch_size, h // patch_size,
                                  w // patch_size, generator=g) < mask_ratio)
                      .to(device) for h, w in view_sizes[:num_global]]
        self.epoch = 1  # past the official 1-epoch last-layer freeze

    def step(self) -> float:
        """One training iteration; returns the loss (the official loop's
        ``loss.item()``)."""
        ng, student = self.num_global, self.student
        with torch.autocast(self.device.type, dtype=torch.bfloat16,
                            enabled=self.bf16):
            with torch.no_grad():
                t_out = self.teacher(self.images[:ng])
            s_out = student(self.images[:ng], mask=self.masks)
            student.backbone.masked_im_modeling = False
            s_local = (student(self.images[ng:])[0]
                       if len(self.images) > ng else None)
            student.backbone.masked_im_modeling = True
            loss = self.loss(s_out, t_out, s_local, self.masks,
                             self.epoch).pop('loss')
        value = loss.item()
        if not math.isfinite(value):
            raise FloatingPointError(f'official iBOT loss is {value}')
        self.optimizer.zero_grad()
        loss.backward()
        if self.clip_grad:
            self.utils.clip_gradients(student, self.clip_grad)
        self.utils.cancel_gradients_last_layer(self.epoch, student, 1)
        self.optimizer.step()
        with torch.no_grad():
            m = self.momentum
            for p_s, p_t in self.pairs:
                p_t.data.mul_(m).add_((1 - m) * p_s.detach().data)
        return value


def build_official_step(ibot_root: str, batch_size: int,
                        view_sizes: Sequence[Tuple[int, int]],
                        num_global: int, device: torch.device,
                        vit: Dict[str, float], head: Dict[str, object],
                        **kwargs) -> Tuple[OfficialStep, List[str]]:
    """:class:`OfficialStep` from the checkout at ``ibot_root`` and the
    stand-in packages its import needed."""
    main_ibot, stand_ins = import_official(ibot_root)
    return (OfficialStep(main_ibot, batch_size, view_sizes, num_global,
                         device, vit, head, **kwargs), stand_ins)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--ibot-root', required=True,
                   help='local copy of github.com/bytedance/ibot')
    p.add_argument('--arch', default='vit_small', choices=sorted(ARCHS))
    p.add_argument('--batch-size', type=int, default=2)
    p.add_argument('--global-size', type=int, default=224)
    p.add_argument('--local-size', type=int, default=96)
    p.add_argument('--num-global', type=int, default=2)
    p.add_argument('--num-local', type=int, default=10)
    p.add_argument('--out-dim', type=int, default=8192)
    p.add_argument('--drop-path', type=float, default=0.1)
    p.add_argument('--device', default='cpu')
    p.add_argument('--bf16', action='store_true',
                   help='bf16 autocast (default fp32)')
    p.add_argument('--iters', type=int, default=5)
    p.add_argument('--warmup', type=int, default=2)
    p.add_argument('--threads', type=int, help='torch CPU threads')
    p.add_argument('--json', help='write the results to this JSON file')
    return p.parse_args(argv)


def main(argv=None) -> dict:
    sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
    from benchmark_pretrain import device_sync, write_json
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    dim, depth, heads = ARCHS[args.arch]
    views = [(args.global_size,) * 2] * args.num_global + \
        [(args.local_size,) * 2] * args.num_local
    runner, stand_ins = build_official_step(
        args.ibot_root, args.batch_size, views, args.num_global, device,
        vit=dict(embed_dim=dim, depth=depth, num_heads=heads),
        head=dict(out_dim=args.out_dim, patch_out_dim=args.out_dim,
                  shared_head=True, norm_last_layer=False),
        drop_path=args.drop_path, bf16=args.bf16)
    sync = device_sync(device)
    for _ in range(args.warmup):
        runner.step()
    times = []
    for _ in range(args.iters):
        sync()
        t = time.perf_counter()
        runner.step()
        sync()
        times.append(time.perf_counter() - t)
    step = statistics.median(times)
    result = dict(ibot_root=osp.abspath(args.ibot_root), arch=args.arch,
                  batch_size=args.batch_size, views=views,
                  precision='bf16' if args.bf16 else 'fp32',
                  step_s_median=step, step_s=times,
                  images_per_s=args.batch_size / step, stand_ins=stand_ins,
                  threads=torch.get_num_threads(), torch=torch.__version__,
                  date=time.strftime('%Y-%m-%d'))
    print(f'official iBOT {args.arch} from {result["ibot_root"]}')
    print(f'stand-ins     {", ".join(stand_ins) or "none"}')
    print(f'step          {step:.3f} s median of {args.iters} '
          f'({result["precision"]}, batch {args.batch_size}, '
          f'{len(views)} views)')
    print(f'throughput    {result["images_per_s"]:.2f} images/s')
    if args.json:
        write_json(args.json, result)
    return result


if __name__ == '__main__':
    main()
