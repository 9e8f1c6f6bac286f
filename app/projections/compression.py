"""compression: tokens against compressed size per completion, by outcome.

The table (CSV/JSON) holds the engine's statistics per (split, facet, group)
plus compression numbers computed from *all* selected samples; only the dots
drawn are down-sampled, deterministically, so a re-run draws the same picture.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import pandas as pd

from app import bounds
from app.engine.dataset import Dataset
from app.engine.errors import InputError
from app.engine.stats import check_truncation
from app.figures import compression as fig_compression
from app.figures.common import axis_label
from app.findings import compression as readings
from app.projections.base import (
    Projection,
    SplitFigure,
    base_meta,
    dim_option,
    empty_error,
    eval_order,
    selection_text,
    token_provenance_note,
)

NAME = "compression"
DEFAULT_GROUP = "manifold.id"
SEED = 0


def _key(values) -> list[str]:
    """Join key for dimension values coming from the aggregate (raw) or the sample frame (categories)."""
    return ["" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v) for v in values]


def _raw_values(ds: Dataset, column: pd.Series) -> pd.Categorical:
    """A categorical sample column recategorised to the dataset's own values (ints stay ints, missing is missing).

    Staying categorical keeps grouping and splitting ~700k samples cheap.
    """
    lookup = {("" if v is None else str(v)): v for v in ds.dimension(column.name).values}
    raw = [lookup.get(str(c), c) for c in column.cat.categories]
    keep = [i for i, v in enumerate(raw) if v is not None]
    remap = np.full(len(raw) + 1, -1, dtype=np.int64)   # the last slot takes code -1 (missing) to -1
    remap[keep] = np.arange(len(keep))
    return pd.Categorical.from_codes(remap[column.cat.codes.to_numpy()],
                                     categories=pd.Index([raw[i] for i in keep], dtype=object))


def _present(ds: Dataset, dim: str, values: pd.Series) -> list[Any]:
    """Values of ``dim`` that occur in ``values``, in the dataset's axis order."""
    seen = set(values.unique())
    return [v for v in ds.dimension(dim).values if v in seen]


def _parts(ds: Dataset, frame: pd.DataFrame, dim: str | None):
    """(value, rows) per value of ``dim`` in axis order; one (None, frame) when there is no dim."""
    if dim is None:
        yield None, frame
        return
    values = _present(ds, dim, frame[dim])
    cat = frame[dim].cat
    position = pd.Index(values, dtype=object).get_indexer(cat.categories)
    codes = np.where(cat.codes.to_numpy() >= 0, position[cat.codes.to_numpy()], -1)
    if len(values) == 1 and (codes == 0).all():   # the usual split: one value, no copy
        yield values[0], frame
        return
    for code, rows in frame.groupby(codes, sort=True):
        if code >= 0:
            yield values[code], rows


def _compression_numbers(samples: pd.DataFrame, dims: list[str]) -> pd.DataFrame:
    """bytes mean/p50 and bytes per token per group, over every sample (not the drawn ones)."""
    df = samples.assign(_bpt=samples["compressed_bytes"] / samples["completion_tokens"].where(
        samples["completion_tokens"] > 0))
    agg = {"bytes_mean": ("compressed_bytes", "mean"), "bytes_p50": ("compressed_bytes", "median"),
           "bytes_per_token_p50": ("_bpt", "median"), "_bytes": ("compressed_bytes", "sum"),
           "_tokens": ("completion_tokens", "sum"), "_n": ("outcome", "size")}
    if dims:
        out = df.groupby(dims, observed=True).agg(**agg).reset_index()
    else:
        out = pd.DataFrame([{k: getattr(df[c], f)() if f != "size" else len(df) for k, (c, f) in agg.items()}])
    out["bytes_per_token"] = out["_bytes"] / out["_tokens"].where(out["_tokens"] > 0)
    for d in dims:
        out[d] = _key(out[d])
    return out.drop(columns=["_bytes", "_tokens"])


def _is(outcome: pd.Series, value: str) -> np.ndarray:
    """``outcome == value`` per sample, from a categorical's codes when it is one (no text per sample)."""
    if isinstance(outcome.dtype, pd.CategoricalDtype):
        categories = list(outcome.cat.categories)
        return outcome.cat.codes.to_numpy() == (categories.index(value) if value in categories else -2)
    return outcome.to_numpy() == value


def _facet_titles(part: pd.DataFrame, facet: str | None, labels: Mapping[Any, str],
                  counted: pd.DataFrame | None = None) -> dict[Any, str]:
    """Subplot title per facet value, with its numbers from every selected sample (not only the drawn ones).

    ``counted``: on a cube, whose rows are a sample of each point (its dots), the facets' exact counts
    (``Dataset.aggregate`` by the facet); the title then gives both and its median is the dots'.
    """
    out = {}
    exact = {} if counted is None else {
        (None if facet is None else _key(pd.Series([r[facet]]))[0]): r for _, r in counted.iterrows()}
    for fv, fpart in (part.groupby(facet, sort=False, observed=True) if facet else [(None, part)]):
        name = (labels.get(fv, str(fv)) if facet == "eval_id" else
                "all completions" if facet is None else f"{facet} = {fv}")
        tok = fpart["completion_tokens"].to_numpy()
        bpt = fpart["compressed_bytes"].to_numpy()[tok > 0] / tok[tok > 0]
        summary = {"samples": len(fpart), "correct_share": float(_is(fpart["outcome"], "correct").mean()),
                   "truncation_rate": float(_is(fpart["outcome"], "truncated").mean()),
                   "bytes_per_token_p50": float(np.median(bpt)) if len(bpt) else float("nan")}
        row = exact.get(None if facet is None else _key(pd.Series([fv]))[0])
        if row is not None:
            summary.update(samples=int(row["samples"]), dots=len(fpart), truncation_rate=float(row["truncation_rate"]),
                           correct_share=float(row["correct"]) / max(int(row["samples"]), 1))
        out[fv] = fig_compression.facet_title(name, summary)
    return out


def _panel_marks(part: pd.DataFrame, facet: str | None, found: Mapping[tuple[str, str], list[dict[str, Any]]],
                 ) -> dict[Any, list[dict[str, Any]]]:
    """Facet value → the marks of its findings, for the panels that hold exactly one eval × task.

    A panel mixing evals or tasks gets none: one task's loop box over another's dots would mislead.
    """
    keys = ["eval_id", "base_task"]
    if facet is None:
        one = part[keys].nunique()
        pairs = {None: (part["eval_id"].iloc[0], part["base_task"].iloc[0])} if (one == 1).all() and len(part) else {}
    else:
        per = part.groupby(facet, observed=True, sort=False)[keys].agg(["nunique", "first"])
        pairs = {fv: (row[("eval_id", "first")], row[("base_task", "first")]) for fv, row in per.iterrows()
                 if row[("eval_id", "nunique")] == 1 and row[("base_task", "nunique")] == 1}
    return {fv: found[(str(e), str(t))] for fv, (e, t) in pairs.items() if (str(e), str(t)) in found}


def run(ds: Dataset, *, filters=None, truncation: str = "failure", split_by: str | None = "base_task",
        facet_by: str | None = "eval_id", group_by: str | None = DEFAULT_GROUP,
        max_points: int = bounds.POINTS_PER_FIGURE) -> Projection:
    """Summaries per (split, facet, group); one figure per split value with down-sampled dots."""
    truncation = check_truncation(truncation)
    if not isinstance(max_points, (int, np.integer)) or max_points < 1:
        raise InputError(f"max_points must be a positive whole number, not {max_points!r}")
    notes: list[str] = []
    if group_by == DEFAULT_GROUP and DEFAULT_GROUP not in ds.dimension_names:
        notes.append(f"This dataset has no {DEFAULT_GROUP}; dots are not split into series.")
        group_by = None
    split = dim_option(ds, split_by, "compression --split-by")
    facet = dim_option(ds, facet_by, "compression --facet-by")
    group = dim_option(ds, group_by, "compression --group-by")
    dims = list(dict.fromkeys(d for d in (split, facet, group) if d))
    if not ds.has_tokens or not ds.has_bytes:
        missing = " and ".join(m for m, ok in (("completion_tokens", ds.has_tokens),
                                               ("compressed_bytes", ds.has_bytes)) if not ok)
        raise InputError(f"compression needs completion_tokens and compressed_bytes per sample; dataset "
                         f"{ds.name!r} has no {missing} (import completions with text or token counts)")
    parsed = ds.parse_filters(filters)
    columns = list(dict.fromkeys(dims + ["eval_id", "base_task"]))   # the findings read every eval × task
    # ``row`` keys each dot to its completion: the dashboard's click opens it on the probe
    samples = ds.samples(parsed, columns=columns + ["outcome", "completion_tokens", "compressed_bytes", "row"])
    if samples.empty:
        raise empty_error(ds, parsed, NAME)
    usable = samples["completion_tokens"].notna() & samples["compressed_bytes"].notna()
    if not usable.all():
        notes.append(f"{int((~usable).sum()):,} selected completion(s) lack tokens or compressed size and are "
                     "not drawn.")
        samples = samples[usable]
    if samples.empty:
        raise InputError("compression: none of the selected completions has both completion_tokens and "
                         "compressed_bytes")
    samples = samples.astype({"completion_tokens": "int64", "compressed_bytes": "int64"})
    for d in columns:
        samples[d] = _raw_values(ds, samples[d])

    stats = ds.aggregate(parsed, dims, truncation)
    extra = _compression_numbers(samples, dims)
    if dims:
        stats = stats.assign(**{f"_k{i}": _key(stats[d]) for i, d in enumerate(dims)})
        extra = extra.rename(columns={d: f"_k{i}" for i, d in enumerate(dims)})
        rows = stats.merge(extra, on=[f"_k{i}" for i in range(len(dims))], how="left")
        rows = rows.drop(columns=[f"_k{i}" for i in range(len(dims))] + ["_n"])
    else:
        rows = pd.concat([stats.reset_index(drop=True), extra.drop(columns=["_n"])], axis=1)
    labels: Mapping[Any, str] = ds.eval_labels()
    if "eval_id" in dims:
        rows.insert(dims.index("eval_id") + 1, "label", rows["eval_id"].map(labels))

    found = readings.findings(samples[readings.SAMPLE_COLUMNS], ds.max_tokens(), labels, filters=parsed)
    found_marks = readings.marks(found)
    figures = []
    budgets_all = ds.max_tokens()
    for sv, part in _parts(ds, samples, split):
        where = "All" if split is None else f"{split} = {sv}"
        ev = eval_order(ds, part["eval_id"].unique())
        facet_values = [None] if facet is None else (
            list(ev) if facet == "eval_id" else _present(ds, facet, part[facet]))
        hidden = facet_values[bounds.MAX_FACETS:]
        left_out = [labels.get(v, str(v)) if facet == "eval_id" else axis_label(v) for v in hidden]
        if hidden and facet is not None:   # draw the first rows only; their dots get the whole point budget
            facet_values = facet_values[:bounds.MAX_FACETS]
            part = part[part[facet].isin(facet_values)]
            notes.append(f"{where}: " + " ".join(fig_compression.left_out_text(facet, left_out, len(facet_values))))
        total = len(part)
        drawn = part
        if total > max_points:
            rng = np.random.default_rng(SEED)
            drawn = part.iloc[np.sort(rng.choice(total, size=max_points, replace=False))]
            notes.append(f"{where}: drawing a random {max_points:,} of {total:,} completions (seed {SEED}); "
                         "the numbers use all of them.")
        group_values = None if group is None else _present(ds, group, part[group])
        if group_values is not None and len(group_values) > fig_compression.MAX_SYMBOLS:
            notes.append(f"{group} has {len(group_values)} values but there are {fig_compression.MAX_SYMBOLS} "
                         "marker symbols: symbols repeat.")
        sel = dict(parsed) if split is None else {**parsed, split: [sv]}
        counted = (ds.aggregate(sel, [facet] if facet else [], truncation, quantiles=False)
                   if ds.cube is not None else None)   # a cube's rows are its dots: the counts come from its cells
        titles = _facet_titles(part, facet, labels, counted)
        budgets = {fv: budgets_all.get(str(fv)) for fv in facet_values} if facet == "eval_id" else None
        fig = fig_compression.build(
            drawn, facet=facet, group=group, facets=facet_values, facet_titles=titles, groups=group_values,
            total=total, budgets=budgets, left_out=left_out, tokens_estimated=ds.meta.tokens_estimated,
            marks=_panel_marks(part, facet, found_marks) if found_marks else None,
            title="Compression: completion tokens vs compressed size, by outcome"
                  + (f" — {split} {sv}" if split else ""),
            subtitle=selection_text(ds, sel, ev))
        figures.append(SplitFigure(None if split is None else str(sv), fig))
    notes = readings.notes(found, labels) + notes
    notes += token_provenance_note(ds)
    meta = base_meta(NAME, ds, parsed, group, truncation, split_by=split, facet_by=facet, max_points=max_points)
    return Projection(NAME, rows, figures, notes, meta, found)
