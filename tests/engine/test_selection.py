"""Selection: a filter checked against the dataset, then applied to cells and rows."""

import pandas as pd
import pytest

from app.engine import InputError
from app.engine.dimensions import Dimensions
from app.engine.layout import N_OUT
from app.engine.schema import OUTCOME_CODE, eval_id
from app.engine.selection import check_filters, groups_mask, select

ALPHA = eval_id("alpha", "chat", "greedy")
BETA = eval_id("beta", "chat", "greedy")


@pytest.fixture()
def parts(ds):
    return ds._layout, Dimensions(ds._layout, ds.meta, ds.name), ds.meta


def test_check_filters_returns_the_canonical_filter(parts):
    _, dims, meta = parts
    assert check_filters('{"params.x": [3, 1.0]}', dims, meta) == {"params.x": [1, 3]}


@pytest.mark.parametrize("filters, message", [
    ({"eval_id": "zzzzzz"}, r"filter 'eval_id': unknown eval id zzzzzz; valid: \w{6} \(alpha \(chat, greedy\)\)"),
    ({"params.y": "c"}, "filter 'params.y': unknown value of params.y c; valid: a, b"),
    ({"outcome": "maybe"}, "unknown value of outcome maybe; valid: correct, incorrect, invalid, truncated"),
    ({"groups": [["arch:moe", "arch:ssm"]]}, "unknown tag 'arch:ssm'; tags: arch:dense, arch:moe, size:large"),
])
def test_check_filters_names_what_is_valid(parts, filters, message):
    _, dims, meta = parts
    with pytest.raises(InputError, match=message):
        check_filters(filters, dims, meta)


def test_groups_items_or_and_tags_inside_one_and(parts):
    lay, _, meta = parts
    pick = dict(zip(lay.eval_ids, groups_mask([["arch:dense", "size:large"], ["arch:moe"]], lay, meta)))
    assert {e for e, keep in pick.items() if keep} == {ALPHA, BETA}


def test_cells_and_rows_match_the_samples_the_filter_keeps(ds, rows, parts):
    lay, dims, meta = parts
    filters = {"eval_id": [ALPHA, BETA], "params.x": [1, 3], "outcome": ["correct", "truncated"]}
    sel = select(check_filters(filters, dims, meta), lay, dims, meta)
    df = pd.DataFrame(rows)
    x = df.params.str.extract(r'"x":(\d)')[0].astype(int)
    want = df[df.eval_id.isin([ALPHA, BETA]) & x.isin([1, 3]) & df.outcome.isin(["correct", "truncated"])]
    assert len(sel.mask) == len(lay.cell_count)
    assert lay.cell_count[sel.cells].sum() == len(want)
    assert set(sel.cells % N_OUT) == {OUTCOME_CODE["correct"], OUTCOME_CODE["truncated"]}
    rows_kept = sel.rows()
    assert len(rows_kept) == len(want) and (rows_kept[1:] > rows_kept[:-1]).all()
    assert sorted(lay.row_tokens[rows_kept]) == sorted(want.completion_tokens.fillna(-1).astype(int))


def test_an_empty_selection_has_no_cells_and_no_rows(parts):
    lay, dims, meta = parts
    sel = select({"eval_id": [ALPHA], "groups": [["arch:dense"]]}, lay, dims, meta)
    assert len(sel.cells) == 0 and len(sel.rows()) == 0
