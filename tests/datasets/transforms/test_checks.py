"""The transforms' argument checks: accepted values come back converted,
everything else raises a ValueError naming the argument, the interval and
the value."""
import math

import numpy as np
import pytest

from mmequi.datasets.transforms._checks import (check_interval, check_scalar,
                                                check_scalars)


def test_check_scalar_accepts_and_converts():
    assert check_scalar('p', 1, 0, 1) == 1.0
    assert isinstance(check_scalar('p', np.float32(0.5), 0, 1), float)
    n = check_scalar('n', np.int64(3), 1, integer=True)
    assert n == 3 and type(n) is int
    assert check_scalar('x', 0.0, 0) == 0.0          # closed lower end


@pytest.mark.parametrize('kwargs, value, message', [
    (dict(low=0, high=1), 1.5, r'p must be a number in \[0, 1\], got 1.5'),
    (dict(low=0, high=1), -0.1, r'in \[0, 1\]'),
    (dict(low=0, high=1), True, 'got True'),          # bools are not numbers
    (dict(low=0, high=1), '0.2', "got '0.2'"),
    (dict(low=0, low_open=True), 0.0, r'p must be a number > 0, got 0.0'),
    (dict(low=1, integer=True), 0, r'p must be an int >= 1, got 0'),
    (dict(low=0, integer=True), 2.5, 'must be an int'),
    (dict(low=0, high=0.5), math.nan, 'got nan'),
])
def test_check_scalar_rejects(kwargs, value, message):
    with pytest.raises(ValueError, match=message):
        check_scalar('p', value, **kwargs)


def test_check_scalars_names_the_bad_entry():
    assert check_scalars('probs', (1, 0.1, 0.5), 3, 0, 1) == (1.0, 0.1, 0.5)
    with pytest.raises(ValueError, match=r'probs\[2\] must be a number in'):
        check_scalars('probs', (1.0, 0.1, 2.0), 3, 0, 1)
    with pytest.raises(ValueError, match=r'probs must be 3 numbers for '
                       r'\(a, b, c\), got \(1.0, 0.1\)'):
        check_scalars('probs', (1.0, 0.1), 3, 0, 1, meaning='for (a, b, c)')
    with pytest.raises(ValueError, match='3 numbers'):
        check_scalars('probs', '0.5', 3, 0, 1)


def test_check_interval():
    assert check_interval('s', (0.25, 1), 0, 1, low_open=True) == (0.25, 1.0)
    assert check_interval('s', [2, 2], 0) == (2.0, 2.0)
    for bad, message in [((0.0, 0.5), r'within \(0, 1\]'),
                         ((0.6, 0.5), 'min <= max'),
                         ((0.1, 1.5), r'within \(0, 1\]'),
                         (0.3, r'\(min, max\) pair'),
                         ((0.1, 0.2, 0.3), 'pair'),
                         ((False, 0.5), 'pair')]:
        with pytest.raises(ValueError, match=r's must .*' + message):
            check_interval('s', bad, 0, 1, low_open=True)
    with pytest.raises(ValueError, match=r'within > 0, got \(0, 1\)'):
        check_interval('s', (0, 1), 0, low_open=True)
