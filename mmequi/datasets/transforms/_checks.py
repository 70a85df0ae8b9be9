"""Argument checks shared by the transforms' constructors.

One rule for every numeric argument: a number (never a bool, never a
string), an ``int`` where ``integer=True``, inside an interval whose lower
end may be open. Errors name the argument, the expected interval and the
value given, e.g. ``flip_prob must be a number in [0, 1], got 1.5``.
"""
import math
from numbers import Integral, Real
from typing import Sequence, Tuple, Union

__all__ = ['check_scalar', 'check_scalars', 'check_interval']

Number = Union[int, float]


def _interval_text(low: float, high: float, low_open: bool) -> str:
    """``'[0, 1]'``, ``'(0, 1]'``, ``'>= 1'`` or ``'> 0'``."""
    if high == math.inf:
        return f'{">" if low_open else ">="} {low}'
    return ('(' if low_open else '[') + f'{low}, {high}]'


def _is_number(value, integer: bool) -> bool:
    kind = Integral if integer else Real
    return isinstance(value, kind) and not isinstance(value, bool)


def check_scalar(name: str, value, low: float = -math.inf,
                 high: float = math.inf, *, low_open: bool = False,
                 integer: bool = False) -> Number:
    """``value`` as ``int`` (``integer=True``) or ``float`` if it is such a
    number in ``[low, high]`` (``(low, high]`` with ``low_open``).

    Raises:
        ValueError: naming ``name``, the interval and ``value``.
    """
    ok = _is_number(value, integer)
    if ok:
        ok = (value > low if low_open else value >= low) and value <= high
    if not ok:
        kind = 'an int' if integer else 'a number'
        raise ValueError(f'{name} must be {kind} '
                         f'{"" if high == math.inf else "in "}'
                         f'{_interval_text(low, high, low_open)}, '
                         f'got {value!r}')
    return int(value) if integer else float(value)


def check_scalars(name: str, values, count: int, low: float = -math.inf,
                  high: float = math.inf, *, meaning: str = ''
                  ) -> Tuple[float, ...]:
    """``count`` numbers, each checked by :func:`check_scalar` as
    ``name[i]``; ``meaning`` (e.g. ``'for (global1, global2, local)'``) is
    added to the error about the length."""
    if (not isinstance(values, Sequence) or isinstance(values, str)
            or len(values) != count):
        raise ValueError(f'{name} must be {count} numbers'
                         f'{" " + meaning if meaning else ""}, '
                         f'got {values!r}')
    return tuple(check_scalar(f'{name}[{i}]', v, low, high)
                 for i, v in enumerate(values))


def check_interval(name: str, value, low: float = -math.inf,
                   high: float = math.inf, *, low_open: bool = False
                   ) -> Tuple[float, float]:
    """A ``(min, max)`` pair of numbers with ``min <= max``, both in
    ``[low, high]`` (``(low, high]`` with ``low_open``), as floats."""
    if (not isinstance(value, Sequence) or isinstance(value, str)
            or len(value) != 2
            or not all(_is_number(v, False) for v in value)):
        raise ValueError(f'{name} must be a (min, max) pair of numbers, '
                         f'got {value!r}')
    lo, hi = float(value[0]), float(value[1])
    if (lo <= low if low_open else lo < low) or hi > high or lo > hi:
        raise ValueError(f'{name} must satisfy min <= max within '
                         f'{_interval_text(low, high, low_open)}, '
                         f'got {value!r}')
    return lo, hi


def check_view_sizes(global_size, local_size,
                     num_local) -> Tuple[int, int, int]:
    """``(global_size, local_size, num_local)`` of a multi-view transform,
    checked: the two view sides positive integers, ``num_local`` a
    non-negative integer (errors name the argument and its value)."""
    return (check_scalar('global_size', global_size, 0, low_open=True,
                         integer=True),
            check_scalar('local_size', local_size, 0, low_open=True,
                         integer=True),
            check_scalar('num_local', num_local, 0, integer=True))
