"""One command for the pretraining speed table: iBOT and iBOT + ours (and,
given a local copy, the official iBOT code) for each model size, timed
interleaved in one process on the same synthetic batch shapes.

    python tools/analysis_tools/benchmark_table.py [--models S L] \
        [--device cuda] [--batch-size N] [--fp32] [--pairs 5] \
        [--warmup 2] [--threads 2] [--official-ibot DIR] \
        [--data-workers N] [--work-dir work_dirs/benchmark_table]

Columns: config | precision | batch | img/s | step ms | MFU | peak memory |
data img/s at N workers | overhead over our iBOT | step / official iBOT.

How it measures (the setup of each config is benchmark_pretrain.py's
``build_setup``: the config's model, optimizer wrapper and a batch made by
its own training pipeline from random images):

* A *step* is one training iteration without data loading:
  ``model.train_step`` (preprocessing, teacher and student forwards, loss,
  backward, clipping, optimizer step) followed by the teacher's EMA update
  (``momentum_update``, run by DistillationTeacherHook in training). The
  official step (official_ibot_step.py) does the same work with the
  official code, on a batch of the iBOT config's view sizes.
* Per model size, after ``--warmup`` interleaved warm-up rounds, ``--pairs``
  rounds each run one step of every entry in a fixed order (iBOT, ours,
  official: ABCABC...); the device is synchronised around every step. The
  table reports medians; overhead = median(ours) / median(iBOT) - 1 and
  ``step / official`` = median(config) / median(official). The JSON also
  has the paired ratios, median over rounds of step / iBOT's step (and /
  the official step) of the same round, which drift in load cancels.
* MFU: model FLOPs of one step (``FlopCounterMode``) / median step time /
  the device's peak (benchmark_pretrain.PEAK_TFLOPS or ``--peak-tflops``).
* Peak memory, CUDA: the step's ``max_memory_allocated`` minus what the
  other resident entries hold (all entries of a size live in one process);
  CPU: the process's max RSS (one figure for the whole run).
* data img/s at N workers (``--data-workers N``): the config's train
  pipeline on photo-like JPEGs through a DataLoader with N workers (steady
  rate, as tools/analysis_tools/benchmark_data.py measures it).

Outputs ``table.md`` and ``table.json`` in ``--work-dir`` and prints the
table. Timings on a shared machine are noisy: read the medians, and the
per-step times in the JSON.
"""
import argparse
import gc
import os.path as osp
import statistics
import sys
import tempfile
import time
from typing import Callable, Dict, List, Optional, Tuple

import torch
from mmengine.config import Config

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from benchmark_pretrain import (build_setup, count_step_flops,  # noqa: E402
                                device_name, device_sync, peak_memory_gib,
                                peak_tflops, write_json)

#: model size -> (label, iBOT config, iBOT + ours config, GPU batch)
MODELS = {
    'S': ('ViT-S/16',
          'configs/ibot/ibot_vit-small-p16_8xb128-amp-coslr-800e_in1k.py',
          'configs/equi_recon/'
          'ibot-equi_vit-small-p16_8xb128-amp-coslr-800e_in1k_all-rot.py',
          128),
    'L': ('ViT-L/16',
          'configs/ibot/ibot_vit-large-p16_32xb32-amp-coslr-250e_in1k.py',
          'configs/equi_recon/'
          'ibot-equi_vit-large-p16_32xb32-amp-coslr-250e_in1k_all-rot.py',
          32),
}
COLUMNS = ('config', 'precision', 'batch', 'img/s', 'step ms', 'MFU',
           'peak memory', 'data img/s', 'overhead vs iBOT',
           'step / official iBOT')


def _stem(config: str) -> str:
    """The config's file name without directory and ``.py``."""
    return osp.splitext(osp.basename(config))[0]


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--models', nargs='+', choices=sorted(MODELS),
                   default=['S', 'L'])
    p.add_argument('--pair', nargs=3, action='append',
                   metavar=('LABEL', 'REF_CONFIG', 'OURS_CONFIG'),
                   help='time these configs instead of --models '
                   '(repeatable); REF_CONFIG is the reference of the '
                   '"overhead vs iBOT" column, rows are named '
                   '"LABEL: <config name>"')
    p.add_argument('--device', default='cpu', help='cpu | cuda | cuda:N')
    p.add_argument('--batch-size', type=int,
                   help='per-device batch for every size (default: '
                   'MODELS\' batch, or the config\'s for --pair)')
    p.add_argument('--fp32', action='store_true',
                   help='full precision (replace the AMP wrapper)')
    p.add_argument('--pairs', type=int, default=5,
                   help='interleaved timed rounds per size')
    p.add_argument('--warmup', type=int, default=2,
                   help='interleaved untimed rounds per size')
    p.add_argument('--threads', type=int, help='torch CPU threads')
    p.add_argument('--official-ibot', metavar='DIR',
                   help='local copy of github.com/bytedance/ibot: time its '
                   'step too (official_ibot_step.py)')
    p.add_argument('--data-workers', type=int, metavar='N',
                   help='fill "data img/s" with a DataLoader of N workers '
                   '(as tools/analysis_tools/benchmark_data.py)')
    p.add_argument('--data-images', type=int, default=64)
    p.add_argument('--peak-tflops', type=float,
                   help='device peak TFLOP/s for MFU (default: table)')
    p.add_argument('--work-dir', default='work_dirs/benchmark_table')
    return p.parse_args(argv)


def data_images_per_s(config: str, workers: Optional[int],
                      images: int) -> Tuple[Optional[float], str]:
    """(img/s of ``config``'s train pipeline through a DataLoader with
    ``workers`` workers on photo-like JPEGs, note) -- the measurement of
    tools/analysis_tools/benchmark_data.py; ``None`` when not asked for.
    The whole run counts (worker start-up included): at least 32 images
    per worker in at least 8 batches per worker, so the loader's prefetch
    (2 batches per worker) cannot make the rate look higher than it is.
    """
    if workers is None:
        return None, 'not measured (--data-workers)'
    from mmequi.utils import write_photo_jpegs
    from mmequi.utils.pipeline_bench import loader_throughput
    cfg = Config.fromfile(config)
    per = max(1, workers)
    images = max(images, 32 * per)
    batch = max(1, min(cfg.train_dataloader.batch_size, images // (8 * per)))
    with tempfile.TemporaryDirectory() as tmp:
        paths = write_photo_jpegs(tmp, 8)
        run = loader_throughput(cfg, paths, images, workers, batch)
    rate = run['images_per_s']
    return float(rate), f'DataLoader, {workers} workers'


def resident_bytes(device: torch.device, *objs) -> int:
    """Bytes on ``device`` of the distinct tensors held by modules
    (parameters, grads, buffers), optimizers (state) and nested dicts /
    lists of tensors."""
    seen, total = set(), 0

    def add(t):
        nonlocal total
        if isinstance(t, torch.Tensor) and t.device == device and \
                t.data_ptr() not in seen:
            seen.add(t.data_ptr())
            total += t.numel() * t.element_size()

    def walk(o):
        if isinstance(o, torch.nn.Module):
            for p in o.parameters():
                add(p)
                add(p.grad)
            for b in o.buffers():
                add(b)
        elif isinstance(o, torch.optim.Optimizer):
            for state in o.state.values():
                walk(state)
        elif isinstance(o, dict):
            for v in o.values():
                walk(v)
        elif isinstance(o, (list, tuple)):
            for v in o:
                walk(v)
        else:
            add(o)
    for o in objs:
        walk(o)
    return total


class Entry:
    """One timed column entry: a step callable and what it holds."""

    def __init__(self, name: str, kind: str, config: str, precision: str,
                 batch: int, step: Callable[[], object],
                 holds: Callable[[], tuple]):
        self.name, self.kind, self.config = name, kind, config  # kind:
        # 'ibot' | 'ours' | 'official'
        self.precision, self.batch = precision, batch
        self.step, self.holds = step, holds
        self.times: List[float] = []
        self.peak_gib = 0.0
        self.stand_ins: Optional[List[str]] = None  # official entry only


def our_entry(name: str, kind: str, config: str, device: torch.device,
              batch_size: Optional[int], fp32: bool):
    """An :class:`Entry` for one of our configs, and its setup."""
    s = build_setup(config, device, batch_size, fp32)

    def step():
        s.model.train_step(s.data, s.wrapper)
        if hasattr(s.model, 'momentum_update'):
            s.model.momentum_update(0.996)

    return Entry(name, kind, config, s.precision, s.batch_size, step,
                 lambda: (s.model, s.wrapper.optimizer, s.data)), s


def official_entry(label: str, root: str, setup,
                   device: torch.device) -> Entry:
    """The official iBOT step shaped like ``setup`` (our iBOT config):
    same view sizes, ViT dims, head dims, drop path, precision."""
    from official_ibot_step import build_official_step
    if setup.precision not in ('fp32', 'bfloat16'):
        raise ValueError(
            f'--official-ibot: the iBOT config runs in {setup.precision}; '
            'the official step is timed in fp32 or bf16 autocast only')
    cfg, backbone = setup.cfg, setup.model.backbone
    arch = backbone.arch_settings
    neck = cfg.model.neck
    views = [tuple(x.shape[-2:]) for x in setup.data['inputs']]
    runner, stand_ins = build_official_step(
        root, setup.batch_size, views, int(cfg.model.loss.num_global),
        device,
        vit=dict(embed_dim=arch['embed_dims'], depth=arch['num_layers'],
                 num_heads=arch['num_heads'],
                 mlp_ratio=arch['feedforward_channels'] / arch['embed_dims']),
        head=dict(out_dim=neck.out_channels, patch_out_dim=neck.out_channels,
                  hidden_dim=neck.hidden_channels,
                  bottleneck_dim=neck.bottleneck_channels,
                  shared_head=neck.get('shared_head', True),
                  norm_last_layer=neck.get('norm_last_layer', False)),
        drop_path=cfg.model.backbone.get('drop_path_rate', 0.0),
        bf16=setup.precision == 'bfloat16',
        patch_size=cfg.model.backbone.get('patch_size', 16))
    if stand_ins:
        print(f'official iBOT: stand-ins for {", ".join(stand_ins)} '
              '(see official_ibot_step.py)')
    entry = Entry(f'{label} official iBOT', 'official', osp.abspath(root),
                  setup.precision, setup.batch_size, runner.step,
                  lambda: (runner.student, runner.teacher, runner.loss,
                           runner.optimizer, runner.images, runner.masks))
    entry.stand_ins = stand_ins
    return entry


def time_interleaved(entries: List[Entry], pairs: int, warmup: int,
                     device: torch.device) -> None:
    """``warmup`` then ``pairs`` rounds of one step of each entry in
    order; fills ``entry.times`` (s) and, on CUDA, ``entry.peak_gib``
    (the step's peak less the other entries' resident memory)."""
    sync = device_sync(device)
    cuda = device.type == 'cuda'
    if cuda and device.index is None:
        device = torch.device('cuda', torch.cuda.current_device())
    for r in range(warmup + pairs):
        line = []
        for e in entries:
            if cuda:
                own = resident_bytes(device, *e.holds())
                torch.cuda.reset_peak_memory_stats(device)
                before = torch.cuda.memory_allocated(device)
            sync()
            t = time.perf_counter()
            e.step()
            sync()
            dt = time.perf_counter() - t
            if r >= warmup:
                e.times.append(dt)
                if cuda:
                    peak = torch.cuda.max_memory_allocated(device)
                    others = before - own
                    e.peak_gib = max(e.peak_gib, (peak - others) / 2**30)
            line.append(f'{e.name} {1000 * dt:.1f} ms')
        print(f"{'warm-up' if r < warmup else 'round'} {r + 1}: "
              + ', '.join(line), flush=True)


def _cell(value: Optional[float], spec: str, scale: float = 1.0,
          unit: str = '') -> str:
    """``value * scale`` formatted with ``spec`` and ``unit``; n/a for
    None."""
    return 'n/a' if value is None else format(value * scale, spec) + unit


def size_rows(entries: List[Entry], device: torch.device, peak,
              data: Dict[str, Tuple[Optional[float], str]]) -> List[dict]:
    """One result dict per entry (medians, MFU, overhead, ratios)."""
    med = {e.kind: statistics.median(e.times) for e in entries}
    times = {e.kind: e.times for e in entries}
    official = med.get('official')

    def paired(kind: str, ref: str) -> Optional[float]:
        """Median over rounds of this round's step / ``ref``'s (robust to
        load that drifts between rounds)."""
        if ref not in times or kind == ref:
            return None
        return statistics.median(a / b for a, b in zip(times[kind],
                                                        times[ref]))
    rows = []
    for e in entries:
        flops = count_step_flops(e.step)
        step = med[e.kind]
        rate, note = data.get(e.config, (None, 'the official code'))
        rows.append(dict(
            name=e.name, kind=e.kind, config=e.config, precision=e.precision,
            batch=e.batch, step_s_median=step, step_s=e.times,
            images_per_s=e.batch / step, tflop_per_step=flops / 1e12,
            mfu=flops / step / 1e12 / peak if peak else None,
            peak_mem_gib=e.peak_gib if device.type == 'cuda'
            else peak_memory_gib(device),
            data_images_per_s=rate, data_note=note,
            overhead_vs_ibot=(None if e.kind == 'official'
                              else step / med['ibot'] - 1),
            step_vs_official=(step / official if official and
                              e.kind != 'official' else None),
            paired_ratio_vs_ibot=paired(e.kind, 'ibot'),
            paired_ratio_vs_official=paired(e.kind, 'official'),
            stand_ins=e.stand_ins))
    return rows


def markdown(rows: List[dict], mem_kind: str, workers) -> str:
    head = list(COLUMNS)
    head[6] = f'peak memory ({mem_kind})'
    head[7] = f'data img/s at {workers} workers' if workers else 'data img/s'
    lines = ['| ' + ' | '.join(head) + ' |',
             '|' + '---|' * len(head)]
    for r in rows:
        cells = [r['name'], r['precision'], str(r['batch']),
                 _cell(r['images_per_s'], '.2f'),
                 _cell(r['step_s_median'], '.1f', 1000),
                 _cell(r['mfu'], '.1f', 100, ' %'),
                 _cell(r['peak_mem_gib'], '.2f', unit=' GiB'),
                 _cell(r['data_images_per_s'], '.1f'),
                 _cell(r['overhead_vs_ibot'], '+.1f', 100, ' %'),
                 _cell(r['step_vs_official'], '.2f', unit='×')]
        lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def main(argv=None) -> dict:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    if args.official_ibot:  # fail before minutes of model building
        from official_ibot_step import check_root
        check_root(args.official_ibot)
    sizes = ([(label, ib, ours, args.batch_size)
              for label, ib, ours in args.pair] if args.pair else
             [(MODELS[m][0], MODELS[m][1], MODELS[m][2],
               args.batch_size or MODELS[m][3]) for m in args.models])
    rows = []
    for label, ibot_cfg, ours_cfg, batch in sizes:
        entries, setups = [], []
        # --pair rows are named by their configs (the reference need not
        # be iBOT); --models rows by iBOT / iBOT + ours
        names = ((f'{label}: {_stem(ibot_cfg)}', f'{label}: {_stem(ours_cfg)}')
                 if args.pair else (f'{label} iBOT', f'{label} iBOT + ours'))
        for name, kind, config in ((names[0], 'ibot', ibot_cfg),
                                   (names[1], 'ours', ours_cfg)):
            entry, setup = our_entry(name, kind, config, device, batch,
                                     args.fp32)
            entries.append(entry)
            setups.append(setup)
        if args.official_ibot:
            entries.append(official_entry(label, args.official_ibot,
                                          setups[0], device))
        time_interleaved(entries, args.pairs, args.warmup, device)
        data = {c: data_images_per_s(c, args.data_workers, args.data_images)
                for c in (ibot_cfg, ours_cfg)}
        rows += size_rows(entries, device,
                          peak_tflops(device, args.peak_tflops), data)
        del entries, setups
        gc.collect()
        if device.type == 'cuda':
            torch.cuda.empty_cache()
    mem_kind = ('CUDA max allocated' if device.type == 'cuda'
                else 'process max RSS')
    table = markdown(rows, mem_kind, args.data_workers)
    meta = dict(device=device_name(device), torch=torch.__version__,
                date=time.strftime('%Y-%m-%d %H:%M'),
                pairs=args.pairs, warmup=args.warmup,
                threads=torch.get_num_threads(),
                command='python tools/analysis_tools/benchmark_table.py ' +
                ' '.join(argv if argv is not None else sys.argv[1:]))
    write_json(osp.join(args.work_dir, 'table.json'), dict(meta, rows=rows))
    with open(osp.join(args.work_dir, 'table.md'), 'w') as f:
        f.write(f"{meta['device']}, torch {meta['torch']}, {meta['date']}, "
                f"medians of {args.pairs} interleaved steps\n"
                f"`{meta['command']}`\n\n{table}\n")
    print(f"\n{meta['device']}   medians of {args.pairs} interleaved steps "
          f'after {args.warmup} warm-up rounds')
    print(table)
    print(f'written: {osp.join(args.work_dir, "table.md")} and table.json')
    return dict(meta, rows=rows)


if __name__ == '__main__':
    main()
