"""The in-memory layout: blocks sorted by tokens, points and cells counted once at open."""

import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from app.engine import InputError
from app.engine.layout import N_OUT, build_layout, in_layout
from app.engine.meta import DatasetMeta
from app.engine.schema import OUTCOME_CODE, SAMPLES_SCHEMA, eval_id

from .conftest import EVALS, random_rows

META = DatasetMeta.from_json({"name": "t", "evals": EVALS, "tasks": [{"base_task": "extra", "params": ["z"]}]})


def layout_of(rows, meta=META):
    return build_layout([pa.Table.from_pylist(rows, schema=SAMPLES_SCHEMA)], meta, "test")


@pytest.fixture()
def rows():
    rows = random_rows(seed=1)
    np.random.default_rng(0).shuffle(rows)  # another tool's row order: the build must sort
    return rows


def test_the_table_is_consumed_so_its_buffers_can_be_freed(rows):
    tables = [pa.Table.from_pylist(rows)]
    build_layout(tables, META, "test")
    assert tables == []


def test_evals_and_tasks_are_sorted_and_tasks_only_in_meta_are_kept(rows):
    lay = layout_of(rows)
    assert lay.eval_ids == sorted(eval_id(e["model"], e["template"], e["sampler"]) for e in EVALS)
    assert lay.task_names == ["arith", "choice", "extra"] and lay.n_tasks == 3
    assert lay.tasks["extra"].params == ("z",) and lay.tasks["arith"].label == "arith"


def test_blocks_hold_their_rows_tokens_ascending_with_nulls_last(rows):
    lay = layout_of(rows)
    df = pd.DataFrame(rows)
    assert lay.n_samples == len(rows) and lay.has_tokens and lay.has_bytes
    assert in_layout(lay.point_block[lay.row_point], lay.row_tokens, lay.row_tokens >= 0)
    for b in range(len(lay.block_start)):
        ev, task = lay.eval_ids[b // lay.n_tasks], lay.task_names[b % lay.n_tasks]
        want = df[(df.eval_id == ev) & (df.base_task == task)]
        start, tok_end, end = lay.block_start[b], lay.block_tok_end[b], lay.block_end[b]
        assert end - start == len(want)
        assert list(lay.row_tokens[start:tok_end]) == sorted(want.completion_tokens.dropna().astype(int))
        assert (lay.row_tokens[tok_end:end] == -1).all()


def test_cells_count_samples_tokens_and_guess_mass_per_point_and_outcome(rows):
    lay = layout_of(rows)
    df = pd.DataFrame(rows)
    assert lay.n_points == 3 * 2 * 6
    counts = lay.cell_count.reshape(-1, N_OUT)
    assert counts.sum() == len(rows)
    for p in (0, 17, lay.n_points - 1):
        ev, task = lay.eval_ids[lay.point_eval[p]], lay.task_names[lay.point_task[p]]
        at = df[(df.eval_id == ev) & (df.base_task == task) & (df.params == lay.params_raw[lay.point_pr[p]])]
        assert (at.manifold == lay.manifolds_raw[lay.point_mf[p]]).all()
        for o, k in OUTCOME_CODE.items():
            g = at[at.outcome == o]
            c = p * N_OUT + k
            assert lay.cell_count[c] == len(g)
            assert lay.cell_tok_n[c] == g.completion_tokens.notna().sum()
            assert lay.cell_tok_sum[c] == g.completion_tokens.sum()
            assert lay.cell_guess[c] == pytest.approx(g.guess_rate.sum())


def test_a_guess_rate_varying_inside_a_block_is_summed_row_by_row(rows):
    for i, r in enumerate(rows):
        r["guess_rate"] = (i % 7) / 10
    lay = layout_of(rows)
    assert lay.cell_guess.sum() == pytest.approx(sum(r["guess_rate"] for r in rows))


@pytest.mark.parametrize("rates", [(1 / 12,), (1 / 12, 1 / 7)], ids=["constant per block", "varying in a block"])
def test_guess_mass_is_exact_in_float64(rows, rates):
    """1/12 in float32 is off by 2.5e-9 a sample: the §3 digits need every cell's guess mass in float64."""
    for i, r in enumerate(rows):
        r["guess_rate"] = rates[i % len(rates)]
    lay = layout_of(rows)
    assert lay.cell_guess.dtype == np.float64
    assert lay.cell_guess.sum() == pytest.approx(math.fsum(r["guess_rate"] for r in rows), abs=1e-12)


def test_missing_manifold_and_bytes(rows):
    for r in rows:
        r["manifold"], r["compressed_bytes"] = None, None
    lay = layout_of(rows)
    assert lay.manifolds_raw == [None] and lay.manifolds == [{}] and not lay.has_bytes
    assert (lay.point_mf == 0).all()


def test_rows_of_blocks_is_a_slice_when_contiguous(rows):
    lay = layout_of(rows)
    assert lay.rows_of_blocks(np.array([1, 2])) == slice(int(lay.block_start[1]), int(lay.block_end[2]))
    apart = lay.rows_of_blocks(np.array([0, 3]))
    assert list(apart) == list(range(lay.block_start[0], lay.block_end[0])) + \
        list(range(lay.block_start[3], lay.block_end[3]))
    assert len(lay.rows_of_blocks(np.array([], np.int64))) == 0


@pytest.mark.parametrize("block, tokens, ok", [
    ([0, 0, 1, 1], [5, 7, 1, 2], True),
    ([0, 0, 1, 1], [5, -1, 1, -1], True),      # nulls last in each block
    ([0, 0, 1], [7, 5, 1], False),              # tokens descending
    ([0, 0, 1], [-1, 5, 1], False),             # a null before a count
    ([1, 0], [1, 1], False),                    # blocks out of order
    ([0], [3], True),
])
def test_in_layout_is_the_store_order(block, tokens, ok):
    tokens = np.array(tokens, np.int32)
    assert in_layout(np.array(block, np.int32), tokens, tokens >= 0) is ok


def test_undescribed_evals_and_unknown_outcomes_name_the_file(rows):
    with pytest.raises(InputError, match="test: samples name eval_id"):
        layout_of(rows, DatasetMeta.from_json({"evals": EVALS[:1]}))
    rows[0]["outcome"] = "maybe"
    with pytest.raises(InputError, match="outcome\\(s\\) maybe are not one of correct"):
        layout_of(rows)
