"""Grouping: one code per selected cell, a frame of group values, exact token quantiles."""

import numpy as np
import pandas as pd
import pytest

from app.engine import InputError
from app.engine.dimensions import Dimensions
from app.engine.grouping import check_group_by, group_cells, token_quantiles
from app.engine.selection import select

NAMES = ["eval_id", "base_task", "outcome", "params.x"]


def test_check_group_by_accepts_a_name_a_list_or_none():
    assert check_group_by(None, NAMES) == []
    assert check_group_by("params.x", NAMES) == ["params.x"]
    assert check_group_by(("eval_id", "outcome"), NAMES) == ["eval_id", "outcome"]


@pytest.mark.parametrize("group_by, message", [
    (["params.z"], "unknown dimension 'params.z' to group by; valid: eval_id, base_task, outcome, params.x"),
    (["eval_id", "eval_id"], "group-by dimensions repeat: eval_id, eval_id"),
])
def test_check_group_by_rejects_unknown_and_repeated_dimensions(group_by, message):
    with pytest.raises(InputError, match=message):
        check_group_by(group_by, NAMES)


@pytest.fixture()
def parts(ds):
    dims = Dimensions(ds._layout, ds.meta, ds.name)
    return ds._layout, dims, select({}, ds._layout, dims, ds.meta).cells


def test_groups_are_the_distinct_value_combinations_in_value_order(parts):
    lay, dims, cells = parts
    grouping = group_cells(cells, [dims["params.y"], dims["outcome"]])
    assert list(grouping.frame.columns) == ["params.y", "outcome"]
    assert list(grouping.frame.itertuples(index=False, name=None)) == [
        (y, o) for y in ("a", "b") for o in ("correct", "incorrect", "invalid", "truncated")]
    assert grouping.n_groups == 8 and grouping.codes.dtype == np.int64
    per_group = np.bincount(grouping.codes, weights=lay.cell_count[cells])
    assert per_group.sum() == lay.cell_count.sum()


def test_no_dimensions_make_one_group(parts):
    _, _, cells = parts
    grouping = group_cells(cells, [])
    assert grouping.n_groups == 1 and (grouping.codes == 0).all()


@pytest.mark.parametrize("keys", [["eval_id", "base_task"], ["params.x"], ["eval_id", "outcome"]])
def test_token_quantiles_equal_numpy_on_the_fast_and_the_general_path(parts, rows, keys):
    lay, dims, cells = parts
    grouping = group_cells(cells, [dims[k] for k in keys])
    p50, p95 = token_quantiles(lay, cells, grouping, (0.5, 0.95))
    df = pd.DataFrame(rows)
    df["params.x"] = df.params.str.extract(r'"x":(\d)')[0].astype(int)
    for g, values in enumerate(grouping.frame.itertuples(index=False, name=None)):
        mask = np.logical_and.reduce([df[k] == v for k, v in zip(keys, values)])
        tok = df[mask].completion_tokens.dropna()
        assert (p50[g], p95[g]) == pytest.approx((np.quantile(tok, 0.5), np.quantile(tok, 0.95)))
