"""Mean, spread and controlled differences of probe results over seeds.

The equivariance benchmark (``tools/benchmarks/equivariance_benchmark.py``)
pretrains every arm once per seed and probes it. For an arm and a metric
with values ``x_s`` over the seeds ``S``::

    mean   = 1/|S| Σ_s x_s
    spread = max_s x_s − min_s x_s          (the seed-to-seed range)

and for an arm against the control arm (the same config with one change),
paired by seed (same seed = same data order and θ draws)::

    d_s   = x_s(arm) − x_s(control)
    Δ     = 1/|S| Σ_s d_s
    marked  iff  |S| >= 2, every d_s has the sign of Δ, and
                 |Δ| > max(spread(arm), spread(control))

i.e. a difference is marked only when it exceeds the seed-to-seed range
of both arms and no seed disagrees. With one seed nothing is marked.
"""
import math
from typing import Dict, List, Optional, Sequence, Tuple

__all__ = ['aggregate', 'paired_deltas', 'format_cell', 'markdown',
           'plain', 'table']

PerSeed = Dict[int, Dict[str, Dict[str, float]]]  # seed -> arm -> metric


def _finite(v) -> bool:
    return v is not None and isinstance(v, (int, float)) and math.isfinite(v)


def aggregate(per_seed: PerSeed) -> Dict[str, Dict[str, dict]]:
    """``{arm: {metric: dict(mean, spread, values={seed: x})}}`` over the
    seeds where the metric is finite."""
    out: Dict[str, Dict[str, dict]] = {}
    for seed, arms in per_seed.items():
        for arm, metrics in arms.items():
            for key, value in metrics.items():
                if _finite(value):
                    out.setdefault(arm, {}).setdefault(
                        key, dict(values={}))['values'][seed] = float(value)
    for metrics in out.values():
        for stats in metrics.values():
            vals = list(stats['values'].values())
            stats['mean'] = sum(vals) / len(vals)
            stats['spread'] = max(vals) - min(vals)
    return out


def paired_deltas(per_seed: PerSeed, control: str
                  ) -> Dict[str, Dict[str, dict]]:
    """``{arm: {metric: dict(mean, values={seed: d}, marked)}}`` for every
    arm but ``control`` (see the module docstring)."""
    agg = aggregate(per_seed)
    if control not in agg:
        raise KeyError(f'control arm {control!r} has no results; arms: '
                       f'{sorted(agg)}')
    out: Dict[str, Dict[str, dict]] = {}
    for arm, metrics in agg.items():
        if arm == control:
            continue
        for key, stats in metrics.items():
            ref = agg[control].get(key)
            if ref is None:
                continue
            seeds = sorted(set(stats['values']) & set(ref['values']))
            if not seeds:
                continue
            d = {s: stats['values'][s] - ref['values'][s] for s in seeds}
            mean = sum(d.values()) / len(d)
            same_sign = all(v * mean > 0 for v in d.values())
            big = abs(mean) > max(stats['spread'], ref['spread'])
            out.setdefault(arm, {})[key] = dict(
                mean=mean, values=d,
                marked=len(seeds) >= 2 and same_sign and big)
    return out


def format_cell(stats: Optional[dict], digits: int, seeds: int,
                delta: bool = False) -> str:
    """``0.512 ±0.031`` (± half the spread) for several seeds, ``0.512``
    for one, ``+0.040*`` for a marked difference, ``—`` if missing."""
    if stats is None:
        return '—'
    if delta:
        return (f'{stats["mean"]:+.{digits}f}'
                + ('*' if stats['marked'] else ''))
    text = f'{stats["mean"]:.{digits}f}'
    if seeds > 1 and len(stats['values']) > 1:
        text += f' ±{stats["spread"] / 2:.{digits}f}'
    return text


def markdown(rows: Sequence[Sequence[str]]) -> str:
    lines = ['| ' + ' | '.join(rows[0]) + ' |',
             '| ' + ' | '.join('---' for _ in rows[0]) + ' |']
    lines += ['| ' + ' | '.join(r) + ' |' for r in rows[1:]]
    return '\n'.join(lines)


def plain(rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return '\n'.join('  '.join(c.ljust(w) for c, w in zip(r, widths))
                     for r in rows)


def table(columns: List[Tuple[str, str, int]], arms: Sequence[str],
          stats: Dict[str, Dict[str, dict]], seeds: int,
          delta: bool = False, first: str = 'method') -> List[List[str]]:
    """Rows of ``arm | cell per column``; ``columns`` are ``(title,
    metric key, digits)``."""
    rows = [[first] + [c[0] for c in columns]]
    for arm in arms:
        if arm not in stats:
            continue
        rows.append([arm] + [format_cell(stats[arm].get(key), digits, seeds,
                                         delta)
                             for _, key, digits in columns])
    return rows
