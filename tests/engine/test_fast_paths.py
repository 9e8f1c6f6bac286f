"""The engine's shortcuts give exactly what the plain computation they replace gives.

Each shortcut (a lookup table instead of a sort, a histogram instead of sorting rows, no
mask when a selection keeps whole blocks, one vectorised hazard table) is checked against
the plain way, value for value and type for type, not approximately.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from app.engine import grouping, stats
from app.engine.hazard import hazard_table
from app.engine.layout import N_OUT, dense_codes, distinct_keys


@pytest.mark.parametrize("space, n", [(10, 1_000), (5_000, 200), (1 << 23, 50)])
def test_distinct_keys_match_numpy_unique(space, n):
    key = np.random.default_rng(space).integers(0, space, n)
    distinct, inverse = dense_codes(key, space, np.int64, grouping._table_space(key))
    want, want_inverse = np.unique(key, return_inverse=True)
    assert np.array_equal(distinct, want) and np.array_equal(inverse, want_inverse)
    assert np.array_equal(distinct_keys(key, space, grouping._table_space(key)), want)


@pytest.mark.parametrize("seed", range(4))
def test_histogram_quantiles_equal_the_sorted_rows_bit_for_bit(seed):
    rng = np.random.default_rng(seed)
    n_groups, width = 7, 3000
    g = rng.integers(0, n_groups - 1, 5_000)          # the last group is empty: NaN both ways
    tok = rng.integers(0, width, 5_000).astype(np.int32)
    got = grouping._histogram_quantiles(g, tok, n_groups, width, (0.0, 0.5, 0.95, 1.0))
    key = np.sort((g << 32) | tok)
    bounds = np.searchsorted(key, np.arange(n_groups + 1, dtype=np.int64) << 32)
    for q, values in zip((0.0, 0.5, 0.95, 1.0), got):
        want = stats.sorted_quantile(key, bounds[:-1], np.diff(bounds), q, mask=0xFFFFFFFF)
        assert np.array_equal(values, want, equal_nan=True)


@pytest.mark.parametrize("filters", [{}, {"base_task": ["arith"]}, {"outcome": ["correct", "truncated"]},
                                     {"params.y": ["a"]}, {"eval_id": "first"}])
def test_selected_rows_are_the_rows_whose_cell_is_selected(ds, filters):
    if filters.get("eval_id") == "first":
        filters = {"eval_id": [ds.evals()["eval_id"].iloc[0]]}
    sel = ds._select(filters)
    lay = sel.layout
    want = np.flatnonzero(sel.mask[lay.row_cells(np.arange(lay.n_samples))])
    assert np.array_equal(sel.rows(), want)


def _per_series(series, outcome, tokens, frame: pd.DataFrame, bucket_size: int) -> pd.DataFrame:
    """The hazard table built the plain way: one frame per series from lists, concatenated."""
    counts = np.zeros((len(frame), int(tokens.max()) // bucket_size + 1, N_OUT))
    np.add.at(counts, (series, tokens // bucket_size, outcome), 1)
    per_bin = counts.sum(2)
    counts[:, :, 1] += counts[:, :, 2]
    counts[:, :, 2] = 0
    pieces = []
    for s in range(len(frame)):
        if not per_bin[s].any():
            continue
        j = np.arange(np.flatnonzero(per_bin[s]).max() + 1)
        total = per_bin[s].sum()
        at_risk = total - np.cumsum(per_bin[s]) + per_bin[s]
        part = {col: [frame.iloc[s][col]] * len(j) for col in frame.columns}
        part.update(bin=j, bin_start=j * bucket_size, bin_end=(j + 1) * bucket_size,
                    samples=np.full(len(j), int(total)), at_risk=at_risk[j].astype(np.int64))
        with np.errstate(divide="ignore", invalid="ignore"):
            for e, k in (("correct", 0), ("incorrect", 1), ("truncated", 3)):
                part[f"events_{e}"] = counts[s, j, k].astype(np.int64)
                part[f"hazard_{e}"] = np.where(at_risk[j] > 0, counts[s, j, k] / at_risk[j], np.nan)
            part["hazard_failure"] = np.where(at_risk[j] > 0, (counts[s, j, 1] + counts[s, j, 2]) / at_risk[j],
                                              np.nan)
            for e, k in (("correct", 0), ("incorrect", 1), ("truncated", 3)):
                part[f"cif_{e}"] = np.cumsum(counts[s, j, k]) / total
        pieces.append(pd.DataFrame(part))
    return pd.concat(pieces, ignore_index=True)


@pytest.mark.parametrize("values", [["a", "b", "c"], [1, 2, 3], [1, 2.5, 3], ["a", None, "c"], [1, "b", None],
                                    [None, None, None]])
def test_hazard_table_equals_the_per_series_tables_with_their_types(values):
    rng = np.random.default_rng(7)
    series = rng.integers(0, 3, 3_000)
    outcome = rng.integers(0, N_OUT, 3_000)
    tokens = np.where(series == 1, rng.integers(0, 700, 3_000), rng.integers(0, 3_000, 3_000))
    frame = pd.DataFrame({"key": pd.Series(values, dtype=object)})
    got = hazard_table(series, outcome, tokens, frame, 256)
    want = _per_series(series, outcome, tokens, frame, 256)
    assert sorted(got.columns) == sorted(want.columns)
    want = want[list(got.columns)]
    assert list(got.dtypes) == list(want.dtypes)
    pd.testing.assert_frame_equal(got, want, check_exact=True)


def test_hazard_table_leaves_out_a_series_with_no_samples():
    frame = pd.DataFrame({"key": pd.Series(["a", "b", "c"], dtype=object)})
    got = hazard_table(np.array([0, 0, 2]), np.array([0, 1, 3]), np.array([10, 300, 5]), frame, 256)
    assert list(got["key"]) == ["a", "a", "c"] and list(got["bin"]) == [0, 1, 0]


def _sorted_rows_quantiles(lay, cells, group, n_groups, qs):
    """Token quantiles the plain way: every selected row's (group, tokens), sorted, read at positions."""
    cell_group = np.full(len(lay.cell_count), -1, np.int64)
    cell_group[cells] = group
    every = np.arange(lay.n_samples)
    g = cell_group[lay.row_cells(every)]
    tok = lay.row_tokens[every].astype(np.int64)
    keep = (g >= 0) & (tok >= 0)
    key = np.sort((g[keep] << 32) | tok[keep])
    bounds = np.searchsorted(key, np.arange(n_groups + 1, dtype=np.int64) << 32)
    return [stats.sorted_quantile(key, bounds[:-1], np.diff(bounds), q, mask=0xFFFFFFFF) for q in qs]


@pytest.mark.parametrize("keys", [["eval_id"], ["base_task"], ["eval_id", "base_task"], ["params.x"],
                                  ["eval_id", "outcome"], []])
@pytest.mark.parametrize("filters", [{}, {"outcome": ["correct", "incorrect"]}, {"base_task": ["choice"]}])
@pytest.mark.parametrize("histogram", [True, False])
def test_token_quantiles_equal_the_sorted_rows_on_every_path(ds, keys, filters, histogram, monkeypatch):
    """Whole blocks, one block per group, a histogram of rows, or a sort (histogram False): the same values."""
    if not histogram:
        monkeypatch.setattr(grouping, "_histogram_fits", lambda n_groups, width, n_rows: False)
    sel = ds._select(filters)
    lay, cells = sel.layout, sel.cells
    found = grouping.group_cells(cells, [ds._dims[k] for k in keys])
    qs = (0.5, 0.95)
    got = grouping.token_quantiles(lay, cells, found, qs)
    want = _sorted_rows_quantiles(lay, cells, found.codes, found.n_groups, qs)
    for a, b in zip(got, want):
        assert np.array_equal(a, b, equal_nan=True)


def test_evals_and_tasks_tables_are_built_once_and_handed_out_as_copies():
    from pathlib import Path

    from app.engine import Dataset, discovery

    ds = Dataset.open(Path(__file__).resolve().parents[2] / "data")
    evals, tasks = ds.evals(), ds.tasks()
    pd.testing.assert_frame_equal(evals, discovery.evals_table(ds._layout, ds.meta))
    pd.testing.assert_frame_equal(tasks, discovery.tasks_table(ds._layout))
    evals.loc[0, "label"] = "changed by a caller"
    del tasks["params"]
    assert ds.evals().loc[0, "label"] != "changed by a caller" and "params" in ds.tasks().columns
