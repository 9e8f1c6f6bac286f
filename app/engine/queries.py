"""The three queries (aggregate, samples, hazard), composed from a selection and a grouping.

Each takes what ``Dataset`` has already checked (filters applied as a ``Selection``,
group-by dimensions, options) and returns a plain DataFrame; they hold no state, so the
facade stays a list of checks and calls. Counters are summed per group from the cell
table; only token quantiles, sample rows and the hazard's token times read the rows.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

from app.engine import stats
from app.engine.dimensions import Dimension, Dimensions
from app.engine.grouping import group_cells, token_quantiles
from app.engine.hazard import hazard_table
from app.engine.layout import N_OUT
from app.engine.schema import OUTCOMES
from app.engine.selection import Selection

STAT_COLUMNS = ("n", "samples", "correct", "incorrect", "invalid", "truncated", "accuracy", "center", "margin",
                "lower", "upper", "truncation_rate", "invalid_rate", "tokens_mean", "tokens_p50", "tokens_p95")
SAMPLE_COLUMNS = ("eval_id", "base_task", "params", "manifold", "outcome", "completion_tokens", "compressed_bytes")


def aggregate(sel: Selection, dims: Sequence[Dimension], truncation: str, quantiles: bool) -> pd.DataFrame:
    """§3 statistics per group: the group-by columns, ``STAT_COLUMNS``, then ``tokens_mean_<outcome>``."""
    lay = sel.layout
    cells = sel.cells
    columns = [d.name for d in dims] + list(STAT_COLUMNS) + [f"tokens_mean_{o}" for o in OUTCOMES]
    if len(cells) == 0:
        return pd.DataFrame(columns=columns)
    grouping = group_cells(cells, dims)
    frame, n_groups = grouping.frame, grouping.n_groups
    slot = grouping.codes * N_OUT + cells % N_OUT

    def per_outcome(weights: np.ndarray) -> np.ndarray:
        return np.bincount(slot, weights=weights[cells], minlength=n_groups * N_OUT).reshape(n_groups, N_OUT)

    counts = per_outcome(lay.cell_count)
    guess = per_outcome(lay.cell_guess)
    tok_sum = per_outcome(lay.cell_tok_sum)
    tok_n = per_outcome(lay.cell_tok_n)
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
    p50, p95 = (token_quantiles(lay, cells, grouping, (0.5, 0.95)) if quantiles
                else (np.full(n_groups, np.nan),) * 2)
    data["tokens_p50"] = p50
    data["tokens_p95"] = p95
    return pd.DataFrame({name: data[name] for name in columns}, index=frame.index)


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
    """The competing-risks table of §5 per series (group) and token bin; rows with no token count are left out."""
    lay = sel.layout
    rows = sel.rows()
    tokens = lay.row_tokens[rows]
    keep = tokens >= 0
    if not keep.all():   # most datasets count every completion's tokens: then nothing is copied
        rows, tokens = rows[keep], tokens[keep]
    point = lay.row_point[rows]
    # the points behind those rows, from the cell table rather than a sort of the rows
    timed = sel.mask & (lay.cell_tok_n > 0)
    cells = np.unique(np.flatnonzero(timed) // N_OUT) * N_OUT
    grouping = group_cells(cells, dims)
    point_group = np.full(lay.n_points, -1, np.int32 if grouping.n_groups < 2**31 else np.int64)
    point_group[cells // N_OUT] = grouping.codes
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
    per_point = np.asarray(remap, narrow)[codes]
    return pd.Categorical.from_codes(per_point[point], list(uniq), validate=False)
