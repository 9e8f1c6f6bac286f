"""Log2 bins for params with more distinct values than a surface can draw as columns."""

from __future__ import annotations

import numpy as np

from app.bounds import MAX_AXIS_VALUES
from app.importers.binning import log2_bin, many_valued, with_bins


def test_the_bin_is_the_power_of_two_edge_nearest_zero():
    assert [log2_bin(x) for x in (1, 2, 3, 15, 16, 31, 32, 2**31 - 1)] == [1, 2, 2, 8, 16, 16, 32, 2**30]
    assert [log2_bin(x) for x in (0, -1, -5, -8)] == [0, -1, -4, -8]
    assert [log2_bin(x) for x in (0.3, 0.5, 0.99, 1.0, 6.5)] == [0.25, 0.5, 0.5, 1, 4]
    assert isinstance(log2_bin(6.5), int) and isinstance(log2_bin(2**62 + 1), int)
    # the same as floor(log2) wherever floating point can say it exactly
    xs = np.arange(1, 5000)
    assert [log2_bin(int(x)) for x in xs] == (2 ** np.floor(np.log2(xs))).astype(int).tolist()


def test_only_numeric_params_with_more_than_the_limit_are_binned():
    rows = [{"n": i, "w": i % 3, "name": f"t{i}", "mixed": i if i else "x"} for i in range(MAX_AXIS_VALUES + 1)]
    assert many_valued(rows) == {"n": MAX_AXIS_VALUES + 1}
    assert many_valued(rows[:-1]) == {}  # exactly the limit: still drawn value by value
    assert many_valued([{"flag": i % 2 == 0} for i in range(40)]) == {}  # booleans are not numbers here


def test_with_bins_adds_a_sibling_and_keeps_the_raw_value():
    assert with_bins({"level": "hard", "n": 37, "k": 3}, ["n"]) == {"level": "hard", "n": 37, "k": 3, "n_bin": 32}
    assert with_bins({"level": "easy"}, ["n"]) == {"level": "easy"}
