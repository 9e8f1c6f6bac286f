"""The three queries (aggregate, samples, hazard), composed from a selection and a grouping.

Each takes what ``Dataset`` has already checked (filters applied as a ``Selection``,
group-by dimensions, options) and returns a plain DataFrame; they hold no state, so the
facade stays a list of checks and calls. Counters are summed per group from the cell
table; only token quantiles, sample rows and the hazard's token times read the rows.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd

from app.engine import stats
from app.engine.dimensions import Dimension, Dimensions, is_block_level
from app.engine.grouping import Grouping, group_cells, token_quantiles
from app.engine.hazard import hazard_table
from app.engine.layout import N_OUT
from app.engine.schema import OUTCOMES
from app.engine.selection import Selection

STAT_COLUMNS = ("n", "samples", "correct", "incorrect", "invalid", "truncated", "accuracy", "center", "margin",
                "lower", "upper", "truncation_rate", "invalid_rate", "tokens_mean", "tokens_p50", "tokens_p95")
SAMPLE_COLUMNS = ("eval_id", "base_task", "params", "manifold", "outcome", "completion_tokens", "compressed_bytes")


def aggregate(sel: Selection, dims: Sequence[Dimension], truncation: str, quantiles: bool) -> pd.DataFrame:
    """§3 statistics per group: the group-by columns, ``STAT_COLUMNS``, then ``tokens_mean_<outcome>``."""
    columns = [d.name for d in dims] + list(STAT_COLUMNS) + [f"tokens_mean_{o}" for o in OUTCOMES]
    counted = _by_block(sel, dims, quantiles) or _by_cell(sel, dims)
    if counted is None:
        return pd.DataFrame(columns=columns)
    grouping, (counts, guess, tok_sum, tok_n), quantile = counted
    frame, n_groups = grouping.frame, grouping.n_groups
    c, w, i, t = counts.T
    table = stats.accuracy_table(c, w, i, t, guess.sum(1), guess[:, :3].sum(1), truncation)
    # the columns are gathered and the frame built once: inserting ~25 columns one by one cost more
    data: dict[str, Any] = {d.name: frame[d.name] for d in dims}
    for name, value in zip(OUTCOMES, (c, w, i, t)):
        data[name] = value.astype(np.int64)
    data["samples"] = counts.sum(1).astype(np.int64)
    data.update(table)
    with np.errstate(divide="ignore", invalid="ignore"):
        data["tokens_mean"] = np.where(tok_n.sum(1) > 0, tok_sum.sum(1) / tok_n.sum(1), np.nan)
        for k, name in enumerate(OUTCOMES):
            data[f"tokens_mean_{name}"] = np.where(tok_n[:, k] > 0, tok_sum[:, k] / tok_n[:, k], np.nan)
    p50, p95 = quantile((0.5, 0.95)) if quantiles else (np.full(n_groups, np.nan),) * 2
    data["tokens_p50"] = p50
    data["tokens_p95"] = p95
    return pd.DataFrame({name: data[name] for name in columns}, index=frame.index)


Counted = tuple[Grouping, tuple[np.ndarray, ...], Callable[[Sequence[float]], list[np.ndarray]]]


def _per_group(grouping: Grouping, slot_outcome: np.ndarray, cells: np.ndarray,
               *arrays: np.ndarray) -> tuple[np.ndarray, ...]:
    """Each array's values at ``cells`` summed per (group, outcome), in cell order."""
    slot = grouping.codes * N_OUT + slot_outcome
    size = grouping.n_groups * N_OUT
    return tuple(np.bincount(slot, weights=a[cells], minlength=size).reshape(grouping.n_groups, N_OUT)
                 for a in arrays)


def _by_cell(sel: Selection, dims: Sequence[Dimension]) -> Counted | None:
    """Counters summed from the (point, outcome) cells: any filter, any grouping."""
    lay, cells = sel.layout, sel.cells
    if len(cells) == 0:
        return None
    grouping = group_cells(cells, dims)
    sums = _per_group(grouping, cells % N_OUT, cells, lay.cell_count, lay.cell_guess, lay.cell_tok_sum, lay.cell_tok_n)
    return grouping, sums, lambda qs: token_quantiles(lay, cells, grouping, qs)


def _by_block(sel: Selection, dims: Sequence[Dimension], quantiles: bool) -> Counted | None:
    """A cube's counters from its (eval, task) sums when the filters and groups stop at blocks and each group is
    one block (the spiderweb's query): the same floats as summing its cells, without reading millions of them.
    None when it does not apply (the cells are summed instead).
    """
    lay = sel.layout
    roll = lay.rollup
    if roll is None or not sel.block_level or not all(is_block_level(d.name) for d in dims):
        return None
    have = np.flatnonzero(roll.block_point >= 0)
    picked = sel.block_mask[have][:, None] & sel.outcome_mask[None, :]
    cells = (have[:, None] * N_OUT + np.arange(N_OUT)).ravel()[picked.ravel()]
    cells = cells[roll.count[cells] > 0]
    if len(cells) == 0:
        return None
    block = cells // N_OUT
    per_block = [Dimension(d.name, d.codes if d.name == "outcome" else d.codes[roll.block_point], d.values)
                 for d in dims]
    grouping = group_cells(cells, per_block)
    group_block = np.empty(grouping.n_groups, np.int64)
    group_block[grouping.codes] = block
    if not np.array_equal(group_block[grouping.codes], block):   # a group of several blocks: summed from cells
        return None
    sums = _per_group(grouping, cells % N_OUT, cells, roll.count, roll.guess, roll.tok_sum, roll.tok_n)
    if quantiles:   # a block's histogram holds all its completions: a group holding fewer reads its cells'
        whole = not any(d.name == "outcome" for d in dims) and bool(
            (sums[0].sum(1) == roll.count.reshape(-1, N_OUT)[group_block].sum(1)).all())
        if not whole:
            return None
    step = lay.histogram.step if lay.histogram is not None else 1
    return grouping, sums, lambda qs: roll.quantiles(group_block, step, qs)


def samples(sel: Selection, dims: Dimensions, columns: Sequence[str]) -> pd.DataFrame:
    """Per-completion rows; dimension columns come back as categoricals (cheap at 8 M rows).

    ``row`` is the sample's position in the samples file: the key of its text (``Dataset.completions(rows=...)``).
    """
    lay = sel.layout
    rows = sel.rows()
    out: dict[str, Any] = {}
    point = lay.row_point[rows]
    for col in columns:
        if col == "row":
            out[col] = lay.file_rows(rows)
        elif col in ("completion_tokens", "compressed_bytes"):
            raw = (lay.row_tokens if col == "completion_tokens" else lay.row_bytes)[rows]
            out[col] = pd.arrays.IntegerArray(np.maximum(raw, 0), raw < 0)   # -1 stored for null
        elif col == "outcome":
            out[col] = pd.Categorical.from_codes(lay.row_outcome[rows].astype(np.int8), list(OUTCOMES))
        elif col in ("params", "manifold"):
            codes, raw_values = ((lay.point_pr, lay.params_raw) if col == "params"
                                 else (lay.point_mf, lay.manifolds_raw))
            out[col] = _categorical(codes, ["" if r is None else r for r in raw_values], point)
        else:
            dim = dims[col]
            values = ["" if v is None else v for v in dim.values]
            if len(set(map(type, values))) > 1:
                values = [str(v) for v in values]
            out[col] = _categorical(dim.codes, values, point)
    return pd.DataFrame(out, columns=list(columns))


def hazard(sel: Selection, dims: Sequence[Dimension], bucket_size: int, split_invalid: bool) -> pd.DataFrame:
    """The competing-risks table of §5 per series (group) and token bin; rows with no token count are left out.

    On a cube, each histogram entry stands for its completions at its bin's start (exact when the bucket size
    is a multiple of the bin).
    """
    lay = sel.layout
    # the points with timed samples, from the cell table rather than a sort of the rows
    timed_cells = sel.cells[lay.cell_tok_n[sel.cells] > 0]
    cells = np.unique(timed_cells // N_OUT) * N_OUT
    grouping = group_cells(cells, dims)
    point_group = np.full(lay.n_points, -1, np.int32 if grouping.n_groups < 2**31 else np.int64)
    point_group[cells // N_OUT] = grouping.codes
    if lay.histogram is not None:
        entries, owner = lay.histogram.entries(timed_cells)
        cell = timed_cells[owner]
        return hazard_table(point_group[cell // N_OUT], (cell % N_OUT).astype(np.int8),
                            lay.histogram.starts(entries), grouping.frame, bucket_size, split_invalid,
                            weights=lay.histogram.counts[entries])
    rows = sel.rows()
    tokens = lay.row_tokens[rows]
    keep = tokens >= 0
    if not keep.all():   # most datasets count every completion's tokens: then nothing is copied
        rows, tokens = rows[keep], tokens[keep]
    point = lay.row_point[rows]
    return hazard_table(point_group[point], lay.row_outcome[rows], tokens, grouping.frame, bucket_size,
                        split_invalid)


def _categorical(codes: np.ndarray, values: list[Any], point: np.ndarray) -> pd.Categorical:
    """A categorical over ``values[codes[point]]``; values may repeat (e.g. None and "" both shown as "").

    The codes are recoded per point (a few thousand) and then gathered once per row, in the
    narrow integer type the categorical keeps; they are valid by construction, so unchecked.
    """
    uniq: dict[Any, int] = {}
    remap = [uniq.setdefault(v, len(uniq)) for v in values] or [0]
    narrow = np.int8 if len(uniq) < 2**7 else np.int16 if len(uniq) < 2**15 else np.int32
    if len(point) < len(codes):   # fewer rows than points (a cube's dots of a few evals): read the rows' codes
        return pd.Categorical.from_codes(np.asarray(remap, narrow)[codes[point]], list(uniq), validate=False)
    per_point = np.asarray(remap, narrow)[codes]
    return pd.Categorical.from_codes(per_point[point], list(uniq), validate=False)
