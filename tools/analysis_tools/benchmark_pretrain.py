"""Benchmark a pretraining config: training-step speed, memory, MFU, and
(with --data) the data pipeline alone.

The synthetic batch has exactly the shapes of the config's training
pipeline: the pipeline (minus file loading) is run on random images, so all
crops, masks and recorded parameters are real.

    python tools/analysis_tools/benchmark_pretrain.py CONFIG \
        [--device cuda] [--batch-size 128] [--iters 20] [--warmup 5] \
        [--fp32] [--threads 2] [--data] [--breakdown] [--json out.json]

Model FLOPs are counted with ``torch.utils.flop_counter.FlopCounterMode``
over one full training step (teacher forward, student forward + backward);
MFU = FLOPs / step time / peak FLOP/s of the device (a table of common
GPUs, or ``--peak-tflops``).

``--breakdown``: after the timed steps, ``--iters`` more steps run with each
component's calls wrapped in a timer (and a ``torch.profiler.record_function``
region of the same name, so an external profiler shows them too):

    data_preprocessor   model.data_preprocessor (view warps, targets)
    teacher_forward     model.teacher.backbone and model.teacher.neck
    student_backbone    model.backbone (global views, local crops, rescue)
    neck                model.neck (forward, embed, projections)
    <name>_loss         every ``*_loss`` submodule (e.g. ibot_loss)
    recon_head          model.head: decoders + reconstruction loss (+ rescue)
    backward            optim_wrapper.backward
    optimizer_step      optim_wrapper.step and zero_grad

Times are exclusive: a region called inside another (the student backbone
inside the rescue loss) counts only in the inner one. Each is reported as ms
per step and % of the instrumented step (mean over the ``--iters`` steps);
``unattributed`` is the rest (train_step glue, loss parsing). On CUDA the
device is synchronised at every region boundary, so the instrumented step is
slower than the plain one. The teacher EMA update (``momentum_update``, run
by DistillationTeacherHook after the step, not part of ``train_step``) is
timed separately as ``ema_update_ms``.
"""
import argparse
import copy
import json
import os
import os.path as osp
import platform
import resource
import statistics
import time
from collections import defaultdict
from contextlib import contextmanager
from typing import Callable, Dict, List, NamedTuple, Tuple

import mmequi  # noqa: F401
import torch
from mmengine.config import Config, DictAction
from mmengine.logging import MessageHub
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope

from mmequi.utils import full_precision, synthetic_batch

# dense bf16/fp16 tensor-core peak, TFLOP/s (vendor data sheets)
PEAK_TFLOPS = {'H200': 989.0, 'H100': 989.0, 'A100': 312.0, 'L40S': 362.0,
               'A40': 150.0, 'V100': 125.0, 'RTX 4090': 165.0}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('config')
    p.add_argument('--device', default='cpu', help='cpu | cuda | cuda:N')
    p.add_argument('--batch-size', type=int,
                   help='per-device batch (default: the config\'s)')
    p.add_argument('--iters', type=int, default=10, help='timed steps')
    p.add_argument('--warmup', type=int, default=3, help='untimed steps')
    p.add_argument('--fp32', action='store_true',
                   help='full precision (replace the AMP wrapper)')
    p.add_argument('--threads', type=int, help='torch CPU threads')
    p.add_argument('--data', action='store_true',
                   help='also time the data pipeline alone (1 worker)')
    p.add_argument('--data-images', type=int, default=64)
    p.add_argument('--peak-tflops', type=float,
                   help='device peak TFLOP/s for MFU (default: table)')
    p.add_argument('--breakdown', action='store_true',
                   help='also time the step\'s components (see module doc)')
    p.add_argument('--json', help='write the results to this JSON file')
    p.add_argument('--cfg-options', nargs='+', action=DictAction)
    return p.parse_args(argv)


def bench_data(cfg, n: int) -> dict:
    """Images/s of the full pipeline (JPEG decode included) on 1 thread
    (per op and with DataLoader workers: benchmark_data.py)."""
    from mmequi.utils.pipeline_bench import pipeline_throughput
    return pipeline_throughput(cfg, n)


def count_step_flops(step: Callable[[], object]) -> float:
    """Model FLOPs of one call of ``step`` (``FlopCounterMode``)."""
    from torch.utils.flop_counter import FlopCounterMode
    counter = FlopCounterMode(display=False)
    with counter:
        step()
    return float(counter.get_total_flops())


def count_flops(model, data, wrapper) -> float:
    return count_step_flops(
        lambda: model.train_step(copy.deepcopy(data), wrapper))


def peak_tflops(device: torch.device, override):
    if override:
        return override
    if device.type != 'cuda':
        return None
    name = torch.cuda.get_device_name(device)
    for key, value in PEAK_TFLOPS.items():
        if key in name:
            return value
    return None


def prepare(model):
    """Settings a training hook would provide (teacher temperatures)."""
    for attr in ('teacher_temp', 'teacher_patch_temp'):
        if hasattr(model, attr) and getattr(model, attr) is None:
            setattr(model, attr, 0.04)


class RegionTimer:
    """Exclusive wall time per named region: entering a region pauses the
    enclosing one. ``sync`` is called at every boundary (CUDA)."""

    def __init__(self, sync: Callable[[], None]) -> None:
        self.sync = sync
        self.total: Dict[str, float] = defaultdict(float)
        self._stack: List[str] = []
        self._since = 0.0

    def _charge(self) -> float:
        self.sync()
        now = time.perf_counter()
        if self._stack:
            self.total[self._stack[-1]] += now - self._since
        return now

    @contextmanager
    def region(self, name: str):
        self._since = self._charge()
        self._stack.append(name)
        try:
            with torch.profiler.record_function(name):
                yield
        finally:
            self._since = self._charge()
            self._stack.pop()


def _breakdown_targets(model, wrapper) -> List[Tuple[str, object, str]]:
    """(region, object, method) for every component the model has."""
    targets = [('data_preprocessor', model.data_preprocessor, 'forward'),
               ('student_backbone', model.backbone, 'forward'),
               ('backward', wrapper, 'backward'),
               ('optimizer_step', wrapper, 'step'),
               ('optimizer_step', wrapper, 'zero_grad')]
    teacher = getattr(model, 'teacher', None)
    for part in ('backbone', 'neck'):
        if teacher is not None and part in teacher:
            targets += [('teacher_forward', teacher[part], m) for m in
                        ('forward', 'forward_cls', 'forward_patch')]
    neck = getattr(model, 'neck', None)
    if neck is not None:
        targets += [('neck', neck, m) for m in
                    ('forward', 'forward_cls', 'forward_patch', 'embed',
                     'project', 'project_patch')]
    for name, module in model.named_children():
        if name.endswith('_loss'):
            targets.append((name, module, 'forward'))
    head = getattr(model, 'head', None)
    if head is not None:
        targets += [('recon_head', head, m)
                    for m in ('loss', 'rescue_loss', 'decode')]
    return [t for t in targets if hasattr(t[1], t[2])]


def time_breakdown(model, data, wrapper, iters: int,
                   sync: Callable[[], None]) -> dict:
    """Mean ms per step of each component over ``iters`` instrumented
    steps (see the module docstring); the wrappers are removed after."""
    timer = RegionTimer(sync)

    def wrap(name, fn):
        def timed(*args, **kwargs):
            with timer.region(name):
                return fn(*args, **kwargs)
        return timed

    targets = _breakdown_targets(model, wrapper)
    for name, obj, method in targets:  # instance attribute shadows class
        setattr(obj, method, wrap(name, getattr(obj, method)))
    steps, ema = [], []
    try:
        for _ in range(iters):
            sync()
            t = time.perf_counter()
            model.train_step(data, wrapper)
            sync()
            steps.append(time.perf_counter() - t)
            if hasattr(model, 'momentum_update'):
                t = time.perf_counter()
                model.momentum_update(0.996)
                sync()
                ema.append(time.perf_counter() - t)
    finally:
        for _, obj, method in targets:
            obj.__dict__.pop(method, None)
    step_ms = 1000 * statistics.mean(steps)
    comps = {k: 1000 * v / iters for k, v in timer.total.items()}
    return dict(step_ms=step_ms, components_ms=comps,
                components_pct={k: 100 * v / step_ms
                                for k, v in comps.items()},
                unattributed_ms=step_ms - sum(comps.values()),
                ema_update_ms=1000 * statistics.mean(ema) if ema else None)


def print_breakdown(b: dict) -> None:
    print(f"breakdown   instrumented step {b['step_ms']:.1f} ms")
    rows = sorted(b['components_ms'].items(), key=lambda kv: -kv[1])
    rows.append(('unattributed', b['unattributed_ms']))
    for name, ms in rows:
        print(f'  {name:<20} {ms:9.1f} ms  {100 * ms / b["step_ms"]:5.1f} %')
    if b['ema_update_ms'] is not None:
        print(f"  {'(ema_update)':<20} {b['ema_update_ms']:9.1f} ms  "
              '(after the step, DistillationTeacherHook)')


class Setup(NamedTuple):
    """One config ready to step: ``model.train_step(data, wrapper)``."""
    cfg: Config
    model: torch.nn.Module
    wrapper: object
    data: dict
    precision: str  # 'fp32' | 'bfloat16' | 'float16'
    batch_size: int
    batch_s: float  # seconds to make the synthetic batch


def build_setup(config: str, device: torch.device, batch_size=None,
                fp32: bool = False, cfg_options=None) -> Setup:
    """The model (seed 0, ``init_weights``, train mode, teacher
    temperatures set), its optimizer wrapper (AMP replaced by fp32 with
    ``fp32``) and a synthetic batch of ``batch_size`` (default: the
    config's) with the training pipeline's exact shapes."""
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    batch_size = batch_size or cfg.train_dataloader.batch_size
    from mmpretrain.registry import MODELS
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.to(device).train()
    prepare(model)
    wcfg = copy.deepcopy(cfg.optim_wrapper)
    if fp32:
        wcfg = full_precision(wcfg)
    wrapper = build_optim_wrapper(model, wcfg)
    MessageHub.get_current_instance().update_info('epoch', 1)
    precision = (str(getattr(wrapper, 'cast_dtype', None) or 'fp32')
                 .replace('torch.', ''))
    t0 = time.perf_counter()
    data = synthetic_batch(cfg, batch_size)
    return Setup(cfg, model, wrapper, data, precision, batch_size,
                 time.perf_counter() - t0)


def device_name(device: torch.device) -> str:
    """The GPU's name, or the CPU's with the torch thread count."""
    if device.type == 'cuda':
        return torch.cuda.get_device_name(device)
    return f'{platform.processor() or "cpu"} x{torch.get_num_threads()}'


def peak_memory_gib(device: torch.device) -> float:
    """CUDA: ``max_memory_allocated`` since the last reset; CPU: the
    process's max RSS (never reset), GiB."""
    if device.type == 'cuda':
        return torch.cuda.max_memory_allocated(device) / 2**30
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def write_json(path: str, obj) -> None:
    """``obj`` as indented JSON at ``path`` (folders made)."""
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    with open(path, 'w') as f:
        json.dump(obj, f, indent=2)


def device_sync(device: torch.device) -> Callable[[], None]:
    """``torch.cuda.synchronize`` on CUDA, a no-op on CPU."""
    return (torch.cuda.synchronize if device.type == 'cuda'
            else (lambda: None))


def main(argv=None) -> dict:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    cfg, model, wrapper, data, precision, batch_size, batch_s = build_setup(
        args.config, device, args.batch_size, args.fp32, args.cfg_options)
    sync = device_sync(device)
    if device.type == 'cuda':
        torch.cuda.reset_peak_memory_stats(device)
    for _ in range(args.warmup):
        model.train_step(data, wrapper)
    sync()
    times = []
    for _ in range(args.iters):
        t = time.perf_counter()
        model.train_step(data, wrapper)
        sync()
        times.append(time.perf_counter() - t)
    step = statistics.mean(times)
    flops = count_flops(model, data, wrapper)
    peak = peak_tflops(device, args.peak_tflops)
    mem = peak_memory_gib(device)
    dev_name = device_name(device)
    result = dict(
        config=osp.relpath(args.config), device=dev_name,
        precision=precision, batch_size=batch_size,
        views=[tuple(x.shape[1:]) for x in data['inputs']]
        if isinstance(data['inputs'], list) else tuple(data['inputs'].shape),
        step_s=step, step_s_std=statistics.pstdev(times),
        images_per_s=batch_size / step, peak_mem_gib=mem,
        peak_mem_kind='cuda max_allocated' if device.type == 'cuda'
        else 'process max RSS', tflop_per_step=flops / 1e12,
        achieved_tflops=flops / step / 1e12,
        mfu=(flops / step / 1e12 / peak) if peak else None,
        synthetic_batch_s=batch_s, torch=torch.__version__,
        date=time.strftime('%Y-%m-%d'))
    if args.breakdown:
        result['breakdown'] = time_breakdown(model, data, wrapper,
                                             args.iters, sync)
    if args.data:
        result.update(bench_data(cfg, args.data_images))

    print(f"config      {result['config']}")
    print(f"device      {dev_name}   precision {precision}   "
          f"batch {batch_size}")
    print(f"step        {step:.3f} s (± {result['step_s_std']:.3f}, "
          f"{args.iters} steps after {args.warmup} warm-up)")
    print(f"throughput  {result['images_per_s']:.1f} images/s")
    print(f"memory      {mem:.2f} GiB ({result['peak_mem_kind']})")
    mfu = f"{100 * result['mfu']:.1f} %" if result['mfu'] else \
        'n/a (no peak FLOP/s known; use --peak-tflops)'
    print(f"model FLOPs {result['tflop_per_step']:.3f} TFLOP/step, "
          f"{result['achieved_tflops']:.2f} TFLOP/s, MFU {mfu}")
    if args.data:
        print(f"data        {result['data_images_per_s_per_worker']:.1f} "
              f"images/s per worker ({result['data_ms_per_image']:.1f} ms "
              'per image, JPEG decode + full pipeline, 1 thread)')
    if args.breakdown:
        print_breakdown(result['breakdown'])
    if args.json:
        write_json(args.json, result)
    return result


if __name__ == '__main__':
    main()
