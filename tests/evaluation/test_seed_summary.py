"""Mean, spread and the marking rule against hand-computed values."""
import pytest

from mmequi.evaluation.seed_summary import (aggregate, format_cell,
                                            paired_deltas, table)

PER_SEED = {
    0: {'ctrl': {'a': 0.50, 'b': 0.10}, 'ours': {'a': 0.70, 'b': 0.12},
        'rand': {'a': 0.40}},
    1: {'ctrl': {'a': 0.54, 'b': 0.20}, 'ours': {'a': 0.66, 'b': 0.05},
        'rand': {'a': float('nan')}},
}


def test_mean_and_spread():
    agg = aggregate(PER_SEED)
    assert agg['ctrl']['a']['mean'] == pytest.approx(0.52)
    assert agg['ctrl']['a']['spread'] == pytest.approx(0.04)
    assert agg['ours']['b']['spread'] == pytest.approx(0.07)
    assert agg['rand']['a']['values'] == {0: 0.40}  # NaN left out


def test_marked_only_above_both_ranges_and_same_sign():
    d = paired_deltas(PER_SEED, 'ctrl')
    # a: differences +0.20, +0.12 -> mean +0.16 > ranges 0.04 / 0.04
    assert d['ours']['a']['mean'] == pytest.approx(0.16)
    assert d['ours']['a']['marked']
    # b: +0.02, -0.15: signs disagree
    assert d['ours']['b']['mean'] == pytest.approx(-0.065)
    assert not d['ours']['b']['marked']
    # one seed only: never marked
    assert d['rand']['a']['values'] == {0: pytest.approx(-0.10)}
    assert not d['rand']['a']['marked']
    with pytest.raises(KeyError, match='control arm'):
        paired_deltas(PER_SEED, 'nope')


def test_same_sign_but_within_the_range_is_not_marked():
    per_seed = {0: {'c': {'x': 0.0}, 't': {'x': 0.30}},
                1: {'c': {'x': 0.5}, 't': {'x': 0.55}}}
    d = paired_deltas(per_seed, 'c')['t']['x']
    assert d['mean'] == pytest.approx(0.175) and not d['marked']  # range .5


def test_cells_and_table():
    agg = aggregate(PER_SEED)
    assert format_cell(agg['ctrl']['a'], 3, 2) == '0.520 ±0.020'
    assert format_cell(agg['rand']['a'], 3, 2) == '0.400'  # one value
    assert format_cell(None, 3, 2) == '—'
    d = paired_deltas(PER_SEED, 'ctrl')
    assert format_cell(d['ours']['a'], 3, 2, delta=True) == '+0.160*'
    rows = table([('A', 'a', 2), ('B', 'b', 3)], ['ctrl', 'ours', 'x'],
                 agg, 2)
    assert rows == [['method', 'A', 'B'],
                    ['ctrl', '0.52 ±0.02', '0.150 ±0.050'],
                    ['ours', '0.68 ±0.02', '0.085 ±0.035']]
