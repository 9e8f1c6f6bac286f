"""hazard: cumulative incidence of each outcome over tokens, and the failure hazard per bin."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import pandas as pd

from app import bounds
from app.engine.dataset import Dataset
from app.engine.errors import InputError
from app.engine.hazard import check_bucket_size
from app.engine.stats import check_truncation
from app.figures import hazard as fig_hazard
from app.figures import palette
from app.figures.common import axis_label, dim_label
from app.findings import hazard as fh
from app.findings.base import Finding
from app.projections.base import (
    NONE,
    Projection,
    SplitFigure,
    base_meta,
    dim_option,
    empty_error,
    eval_order,
    selection_text,
    token_provenance_note,
)

NAME = "hazard"


def check_bins(ds: Dataset, parsed: Mapping[str, Any], bucket_size: int, tokens: pd.Series | None = None) -> None:
    """Refuse a bucket size that would cut this selection into more than ``bounds.MAX_HAZARD_BINS`` bins.

    Bins are [j·B, (j+1)·B), so the longest completion T of the selection falls in bin T // B and
    there are T // B + 1 of them; the smallest bucket size that fits is T // MAX_HAZARD_BINS + 1.
    Checked before the table is built: 16,384 bins of one token cost seconds and a 7 MB figure.
    ``tokens``: the selection's completion_tokens when the caller already has them.
    """
    if tokens is None or ds.cube is not None:   # a cube's rows are a sample of each point: ask its histograms
        longest = ds.longest_tokens(parsed)
    else:
        longest = tokens.max() if len(tokens) else None
    if longest is None or longest is pd.NA:
        return
    bins = int(longest) // bucket_size + 1
    if bins > bounds.MAX_HAZARD_BINS:
        least = int(longest) // bounds.MAX_HAZARD_BINS + 1
        raise InputError(f"hazard: bucket size too small for this selection: at least {least:,} (--bucket-size); "
                         f"its longest completion has {int(longest):,} tokens, so bins of {bucket_size:,} would "
                         f"make {bins:,} bins and a figure shows at most {bounds.MAX_HAZARD_BINS:,}")


def _parts(samples: pd.DataFrame, dims: list[str]) -> dict[tuple[str, ...], pd.DataFrame]:
    """The samples of each (split, series) value, keyed by the values as text; rows in their order.

    What ``samples.groupby(dims, observed=True)`` gives, read from the categoricals' codes: the
    engine's samples come grouped by eval, so a series is usually one slice and nothing is sorted.
    """
    if not dims:
        return {(): samples}
    key: np.ndarray | None = None
    values = []
    for d in dims:
        column = samples[d].astype("category") if not isinstance(samples[d].dtype, pd.CategoricalDtype) \
            else samples[d]
        codes = column.cat.codes.to_numpy()   # int8 for a few values: one dimension is keyed as it is
        if key is None:
            key = codes
        else:
            combined = key.astype(np.int64) * (len(column.cat.categories) + 1) + codes
            key = np.where((key < 0) | (codes < 0), -1, combined)
        values.append(list(column.cat.categories))
    assert key is not None
    ordered = bool(np.all(key[1:] >= key[:-1]))
    order = None if ordered else np.argsort(key, kind="stable")
    sorted_key = key if order is None else key[order]
    starts = np.flatnonzero(np.r_[True, sorted_key[1:] != sorted_key[:-1]]) if len(key) else np.zeros(0, np.int64)
    ends = np.r_[starts[1:], len(key)].astype(np.int64)
    out: dict[tuple[str, ...], pd.DataFrame] = {}
    for start, end in zip(starts, ends):
        k = int(sorted_key[start])
        if k < 0:
            continue   # a missing value: groupby leaves it out
        parts = []
        for vals in reversed(values):
            k, code = divmod(k, len(vals) + 1)
            parts.append(str(vals[code]))
        rows = samples.iloc[int(start):int(end)] if order is None else samples.iloc[order[start:end]]
        out[tuple(reversed(parts))] = rows
    return out


def run(ds: Dataset, *, filters=None, truncation: str = "failure", split_by: str | None = "none",
        bucket_size: int = bounds.BUCKET_SIZE_DEFAULT, group_by: str | None = "eval_id") -> Projection:
    """One series per ``group_by`` value, one figure per ``split_by`` value."""
    truncation = check_truncation(truncation)
    bucket_size = check_bucket_size(bucket_size)
    split = dim_option(ds, split_by, "hazard --split-by")
    series = dim_option(ds, group_by, "hazard --group-by")
    if not ds.has_tokens:
        raise InputError(f"hazard needs completion_tokens (time is measured in tokens); dataset {ds.name!r} has "
                         "no token counts, so when failures happen cannot be shown")
    parsed = ds.parse_filters(filters)
    dims = list(dict.fromkeys(d for d in (split, series) if d))
    columns = list(dict.fromkeys([d for d in dims] + ["eval_id", "base_task", "outcome", "completion_tokens"]))
    samples = ds.samples(parsed, columns=columns)   # the findings' rows; their tokens also bound the bins
    check_bins(ds, parsed, bucket_size, samples["completion_tokens"])
    table = ds.hazard(parsed, group_by=dims, bucket_size=int(bucket_size))
    if table.empty:
        if ds.aggregate(parsed, [], quantiles=False).empty:
            raise empty_error(ds, parsed, NAME)
        raise InputError(f"hazard: none of the selected samples has completion_tokens in dataset {ds.name!r}")
    # Spec §6: hazard rows are the series' §3 statistics plus the per-bin columns.
    stats = ds.aggregate(parsed, dims, truncation).drop(columns=["samples"])
    table = (table.merge(stats, on=dims, how="left") if dims else
             table.assign(**{c: stats[c].iloc[0] for c in stats.columns}))
    labels_all = ds.eval_labels()
    if series == "eval_id":
        table.insert(table.columns.get_loc("eval_id") + 1, "label", table["eval_id"].map(labels_all))

    notes: list[str] = [
        "Hazard treats truncation as its own competing event in either truncation mode; "
        "the failure hazard counts incorrect and invalid answers."]
    n_bins = int(table["bin"].max()) + 1
    if n_bins < 4:
        notes.append(f"Every completion is shorter than {n_bins * bucket_size:,} tokens ({n_bins} bin(s) of "
                     f"{bucket_size}): there is no time course to show; try a smaller --bucket-size. Short answers "
                     "say nothing about a context wall in the prompt: compare accuracy over the context-length "
                     "parameter instead (surface or spiderweb --group-by).")
    budgets_all = ds.max_tokens()
    figures = []
    found: list[Finding] = []
    by_part = _parts(samples, dims)
    options = {"bucket_size": None if bucket_size == bounds.BUCKET_SIZE_DEFAULT else int(bucket_size),
               "split_by": split, "group_by": None if series == "eval_id" else (series or NONE)}
    split_values = [None] if split is None else list(dict.fromkeys(table[split]))
    for sv in split_values:
        part = table if split is None else table[table[split] == sv]
        sel = dict(parsed) if split is None else {**parsed, split: [sv]}
        evals = eval_order(ds, ds.aggregate(sel, ["eval_id"], quantiles=False)["eval_id"])   # ids only
        labels: dict[Any, str]
        if series == "eval_id":
            labels = {e: evals[e] for e in evals if e in set(part["eval_id"])}
        elif series is None:
            labels = {None: "all selected samples"}
        else:
            labels = {v: f"{dim_label(series)} = {axis_label(v)}"
                      for v in ds.dimension(series).values if v in set(part[series])}
        walls: list[dict[str, Any]] = []
        for key, name in labels.items():
            s = part if series is None else part[part[series] == key]
            where = f"{name}" + (f" ({split} {sv})" if split else "")
            wanted: dict[str | None, Any] = {split: sv, series: key}
            mine = by_part.get(tuple(str(wanted[d]) for d in dims), samples.iloc[0:0])
            own = sel if series is None else {**sel, series: [key]}
            ids = [key] if series == "eval_id" else sorted({str(e) for e in mine["eval_id"].dropna()})
            these, said = fh.series_findings(ds, s, mine, name=where, selection=own, bucket_size=int(bucket_size),
                                             evals=ids, link_options=options)
            found += these
            notes += [f.text for f in these] + said
            walls += fh.wall_marks(these, key)
            trunc = float(s["cif_truncated"].iloc[-1]) if "cif_truncated" in s and len(s) else 0.0
            if trunc >= fh.HIGH_TRUNCATION:
                notes.append(f"{where}: {trunc:.0%} of samples end truncated.")
        colors = palette.series_colors(list(labels))
        budgets = {evals[e]: budgets_all.get(e) for e in evals}
        budget_colors = ({evals[e]: colors[e] for e in labels} if series == "eval_id" else {})
        fig = fig_hazard.build(part, series=series, labels=labels,
                               title="Hazard: when answers, failures and truncations happen"
                                     + (f" — {split} {sv}" if split else ""),
                               subtitle=selection_text(ds, sel, evals) + f" · bins of {bucket_size} tokens",
                               budgets=budgets, budget_colors=budget_colors, bucket_size=int(bucket_size),
                               tokens_estimated=ds.meta.tokens_estimated, walls=walls)
        figures.append(SplitFigure(None if split is None else str(sv), fig))
    notes += token_provenance_note(ds)
    meta = base_meta(NAME, ds, parsed, series, truncation, split_by=split, bucket_size=int(bucket_size),
                     min_at_risk_drawn=fig_hazard.MIN_AT_RISK)
    return Projection(NAME, table, figures, notes, meta, found)
