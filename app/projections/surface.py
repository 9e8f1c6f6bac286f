"""surface: accuracy over each 2-D view, one grid row per view and one column per eval."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import pandas as pd

from app.engine import filters as flt
from app.engine.dataset import Dataset
from app.engine.errors import InputError, listing
from app.engine.meta import ViewMeta
from app.engine.stats import check_truncation
from app.figures import surface as fig_surface
from app.figures.common import axis_label, dim_label, short
from app.projections.base import (
    NONE,
    Projection,
    SplitFigure,
    base_meta,
    empty_error,
    eval_order,
    selection_text,
)

NAME = "surface"
SPLITS = ("base_task", NONE)
CROSS_TASK = "cross-task"
CLIFF_STEP = 0.5      # a jump this large between neighbouring cells is a cliff, not a slope


def select_views(ds: Dataset, parsed: Mapping[str, Any], names: list[str] | None) -> list[ViewMeta]:
    """Named views (each must be 2-D), or every 2-D view of the filtered tasks."""
    if names:
        chosen = [ds.view(n) for n in names]
        bad = [v.name for v in chosen if not v.is_2d]
        if bad:
            raise InputError(f"surface needs views with exactly two group-by dimensions; {listing(bad)} "
                             f"{'has' if len(bad) == 1 else 'have'} a different number")
        return chosen
    tasks = parsed.get("base_task")
    chosen = [v for v in ds.meta.views_2d if (v.base_task in tasks if tasks else True)]
    if not chosen:
        where = f"for task(s) {listing(tasks)}" if tasks else f"in dataset {ds.name!r}"
        have = listing([f"{v.name} ({len(v.group_by)} dims)" for v in ds.meta.views])
        raise InputError(f"surface: no view with exactly two group-by dimensions {where} (views: {have}); "
                         "a surface needs a task with two varying parameters: add a view to dataset.json "
                         "or re-import so views are proposed")
    return chosen


def _view_filters(ds: Dataset, parsed: Mapping[str, Any], view: ViewMeta) -> dict[str, Any] | None:
    """User filters AND the view's own; None when they cannot both hold."""
    own = ds.parse_filters(view.filters)
    if view.base_task is not None:
        own = flt.merge(own, {"base_task": [view.base_task]})
    merged = flt.merge(parsed, own)
    if any(isinstance(v, list) and not v for v in merged.values()):
        return None
    return merged


def _ordered(values: list) -> bool:
    """Neighbours only mean something along a numeric axis (not between two task names)."""
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)


def _steps(rows: pd.DataFrame, x: str, y: str, xs: list, ys: list) -> tuple[float, str]:
    """Largest change of center between neighbouring cells along a numeric axis, and where it is."""
    grid = {(a, b): c for a, b, c in zip(rows[x], rows[y], rows["center"])}
    pairs = []   # (cell, its neighbour, the dim that changes, the fixed dim's text)
    if _ordered(xs):
        pairs += [((a, b), (n, b), x, f"{dim_label(y)} {axis_label(b)}") for b in ys for a, n in zip(xs, xs[1:])]
    if _ordered(ys):
        pairs += [((a, b), (a, n), y, f"{dim_label(x)} {axis_label(a)}") for a in xs for b, n in zip(ys, ys[1:])]
    best, where = 0.0, ""
    for here, there, dim, fixed in pairs:
        c0, c1 = grid.get(here), grid.get(there)
        if c0 is None or c1 is None or np.isnan(c0) or np.isnan(c1) or abs(c0 - c1) <= best:
            continue
        k = 0 if dim == x else 1
        best = abs(c0 - c1)
        where = (f"{dim_label(dim)} {axis_label(here[k])} → {axis_label(there[k])} at {fixed} "
                 f"({c0:.2f} → {c1:.2f})")
    return best, where


def run(ds: Dataset, *, filters=None, truncation: str = "failure", views: list[str] | None = None,
        split_by: str = "base_task") -> Projection:
    """Aggregate each view by (eval, x, y) and draw the grid, one figure per task unless split_by='none'."""
    truncation = check_truncation(truncation)
    if split_by not in SPLITS:
        raise InputError(f"surface --split-by must be base_task or none, not {split_by!r}")
    parsed = ds.parse_filters(filters)
    chosen = select_views(ds, parsed, list(views) if views else None)

    panels: list[tuple[str, fig_surface.Panel]] = []
    frames, notes = [], []
    for view in chosen:
        merged = _view_filters(ds, parsed, view)
        x, y = view.group_by
        rows = ds.aggregate(merged, ["eval_id", x, y], truncation) if merged is not None else pd.DataFrame()
        if rows.empty:
            notes.append(f"View {view.name!r}: no samples under these filters; left out.")
            continue
        xs = [v for v in ds.dimension(x).values if v in set(rows[x])]
        ys = [v for v in ds.dimension(y).values if v in set(rows[y])]
        panels.append((view.base_task or CROSS_TASK, fig_surface.Panel(view.name, x, y, rows, xs, ys)))
        safe, trunc = fig_surface.marks(rows)
        extra = {} if "base_task" in (x, y) else {"base_task": view.base_task}   # a cross-task view keeps its own
        frames.append(rows.assign(view=view.name, **extra, safe_zone=safe.to_numpy(),
                                  truncation_mark=trunc.to_numpy()))
    if not panels:
        raise empty_error(ds, parsed, f"surface over view(s) {listing([v.name for v in chosen])}")

    labels = eval_order(ds, pd.concat([p.rows["eval_id"] for _, p in panels]))
    for _, p in panels:   # one line per view, plus one per cliff: readable with many evals
        counts, cliffs = [], []
        safe, trunc = fig_surface.marks(p.rows)
        by_eval = p.rows.assign(_safe=safe, _trunc=trunc).groupby("eval_id", sort=False, observed=True)
        parts = {e: r for e, r in by_eval}
        for e, lab in labels.items():
            r = parts.get(e)
            if r is None:
                continue
            counts.append(f"{short(lab, 40)} {int(r['_safe'].sum())}/{len(r)} safe, "
                          f"{int(r['_trunc'].sum())} truncation-marked")
            step, where = _steps(r, p.x, p.y, list(p.x_values), list(p.y_values))
            if step >= CLIFF_STEP:
                cliffs.append(f"{p.view} · {lab}: sharp cliff: {where}.")
        notes.append(f"{p.view}: " + "; ".join(counts) + ("" if cliffs else "; no sharp cliff."))
        notes += cliffs

    rows = pd.concat(frames, ignore_index=True)
    rows["label"] = rows["eval_id"].map(labels)
    head = list(dict.fromkeys(["view", "base_task", "eval_id", "label"] + [d for _, p in panels for d in (p.x, p.y)]))
    rows = rows[head + [c for c in rows.columns if c not in head]]

    groups: dict[str | None, list[fig_surface.Panel]] = {}
    for task, p in panels:
        groups.setdefault(task if split_by == "base_task" else None, []).append(p)
    figures = []
    for split, group in groups.items():
        sel = dict(parsed)
        if split is not None and split != CROSS_TASK:
            sel = {**sel, "base_task": [split]}
        used = eval_order(ds, pd.concat([p.rows["eval_id"] for p in group]))
        what = f"task {split}" if split and split != CROSS_TASK else "all selected views"
        fig = fig_surface.build(group, labels=used, title=f"Surface: accuracy over 2-D parameter grids — {what}",
                                subtitle=selection_text(ds, sel, used, truncation))
        figures.append(SplitFigure(split, fig))
    meta = base_meta(NAME, ds, parsed, {p.view: [p.x, p.y] for _, p in panels}, truncation, split_by=split_by,
                     views=[p.view for _, p in panels],
                     marks={"safe_zone": f"lower >= {fig_surface.SAFE_LOWER}",
                            "truncation_mark": f"truncation_rate > {fig_surface.TRUNCATION_MARK}"})
    return Projection(NAME, rows, figures, notes, meta)
