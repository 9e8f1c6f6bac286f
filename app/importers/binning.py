"""Log2 bins for params with too many distinct values to draw as surface columns.

A realised difficulty value such as count_bits' ``n`` (1 .. 2^31) or word_sorting's ``num_words``
(3..10 in an easy run, 25..50 in a hard one) takes dozens of values; a surface with one column per
value is unreadable and each of its cells holds a sample or two. Such a param gets a sibling
``<key>_bin`` = sign(x) * 2^floor(log2 |x|), the edge of x's power-of-two bin nearest zero
(16 stands for 16..31, 0.25 for 0.25..0.5, -4 for -7..-4; 0 stays 0).

Why log2 and not quantiles: the edges do not depend on the data, so every run and every later
import of the same task bins alike (a merge never mixes two binnings), they read as round numbers,
and difficulty knobs usually scale by factors (sizes, lengths, magnitudes). Why an extra numeric
param and not a replaced value: axes sort numerically, a filter on the raw value keeps working,
and ``store.propose_views`` draws the bin in its place (the view name says ``<key>_bin``).
"""

from __future__ import annotations

import math
from typing import Any, Iterable, Mapping

from app.bounds import MAX_AXIS_VALUES
from app.engine.store import BIN_SUFFIX

BIN_RULE = (f"more than {MAX_AXIS_VALUES} distinct values: surfaces use <key>{BIN_SUFFIX} = the edge of its "
            f"power-of-two bin nearest zero (16 stands for 16..31); filters on <key> still see every value")


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def log2_bin(x: int | float) -> int | float:
    """sign(x) * 2^floor(log2 |x|): the bin edge nearest zero (an int when |x| >= 1)."""
    if x == 0:
        return 0
    sign = -1 if x < 0 else 1
    if isinstance(x, int):
        return sign * (1 << (abs(x).bit_length() - 1))
    _, exponent = math.frexp(abs(x))  # |x| = m * 2^exponent with 0.5 <= m < 1
    edge = math.ldexp(1.0, exponent - 1)
    return sign * int(edge) if edge >= 1 else sign * edge


def many_valued(rows: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """Numeric params with more than MAX_AXIS_VALUES distinct values over ``rows``, with that count."""
    values: dict[str, set[Any]] = {}
    other: set[str] = set()  # keys that hold a non-number somewhere are never binned
    for row in rows:
        for key, value in row.items():
            if _number(value):
                values.setdefault(key, set()).add(value)
            elif value is not None:
                other.add(key)
    return {k: len(v) for k, v in values.items() if len(v) > MAX_AXIS_VALUES and k not in other}


def with_bins(row: Mapping[str, Any], keys: Iterable[str]) -> dict[str, Any]:
    """``row`` plus ``<key>_bin`` for each of ``keys`` it holds a number for."""
    out = dict(row)
    for key in keys:
        if _number(row.get(key)):
            out[key + BIN_SUFFIX] = log2_bin(row[key])
    return out


__all__ = ["BIN_RULE", "log2_bin", "many_valued", "with_bins"]
