"""surface: accuracy over each 2-D view, one grid row per view and one column per eval."""

from __future__ import annotations

from typing import Any, Mapping

import pandas as pd

from app.engine import filters as flt
from app.engine.dataset import Dataset
from app.engine.errors import InputError, listing
from app.engine.meta import ViewMeta
from app.engine.stats import check_truncation
from app.figures import surface as fig_surface
from app.figures import surface3d
from app.findings import surface as readings
from app.projections.base import (
    NONE,
    Projection,
    SplitFigure,
    base_meta,
    empty_error,
    eval_order,
    selection_text,
    token_provenance_note,
)

NAME = "surface"
SPLITS = ("base_task", NONE)
MODES = ("2d", "3d")  # heatmaps (the CLI's and the page's default) or relief surfaces with the lower-bound shadow
CROSS_TASK = "cross-task"


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


def _check_scenes(n_views: int, n_evals: int, split: str | None) -> None:
    """A 3-D figure draws one WebGL scene per view × eval: past what a browser keeps alive, say how to narrow."""
    scenes = surface3d.scene_count(n_views, n_evals)
    if scenes > surface3d.MAX_SCENES:
        where = f" of task {split}" if split and split != CROSS_TASK else ""
        raise InputError(f"surface --mode 3d draws one 3-D scene per view and eval, at most {surface3d.MAX_SCENES} "
                         f"(what a browser keeps drawn); the selection{where} has {n_views} view(s) × {n_evals} "
                         f"eval(s) = {scenes}: choose fewer evals or views (--view NAME), or use --mode 2d")


def run(ds: Dataset, *, filters=None, truncation: str = "failure", views: list[str] | None = None,
        split_by: str = "base_task", mode: str = "2d") -> Projection:
    """Aggregate each view by (eval, x, y) and draw the grid, one figure per task unless split_by='none'."""
    truncation = check_truncation(truncation)
    if split_by not in SPLITS:
        raise InputError(f"surface --split-by must be base_task or none, not {split_by!r}")
    if mode not in MODES:
        raise InputError(f"surface --mode must be 2d or 3d, not {mode!r}")
    parsed = ds.parse_filters(filters)
    chosen = select_views(ds, parsed, list(views) if views else None)

    panels: list[tuple[str, fig_surface.Panel]] = []
    grids: list[readings.Grid] = []
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
        safe, trunc = readings.marks(rows)   # the marks both figures draw, decided by the findings' rule
        rows = rows.assign(safe_zone=safe.to_numpy(), truncation_mark=trunc.to_numpy())
        panels.append((view.base_task or CROSS_TASK, fig_surface.Panel(view.name, x, y, rows, xs, ys)))
        grids.append(readings.Grid(view.name, x, y, xs, ys, view.base_task))
        extra = {} if "base_task" in (x, y) else {"base_task": view.base_task}   # a cross-task view keeps its own
        frames.append(rows.assign(view=view.name, **extra))
    if not panels:
        raise empty_error(ds, parsed, f"surface over view(s) {listing([v.name for v in chosen])}")

    labels = eval_order(ds, pd.concat([p.rows["eval_id"] for _, p in panels]))
    findings, quiet = [], []
    for (_, p), grid in zip(panels, grids):
        found = readings.findings(p.rows, grid, labels, filters=parsed, truncation=truncation)
        quiet += [] if found else [p.view]
        findings += found
    notes += readings.notes(findings, labels)   # each finding said once, view by view (grouped when many)
    if quiet:
        notes.append(f"No safe cell, cliff, slope, truncation zone or fragile grid for any eval on {listing(quiet)}.")
    notes += token_provenance_note(ds)

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
        if mode == "3d":
            _check_scenes(len(group), len(used), split)
        builder = surface3d.build if mode == "3d" else fig_surface.build
        fig = builder(group, labels=used, title=f"Surface: accuracy over 2-D parameter grids — {what}",
                      subtitle=selection_text(ds, sel, used, truncation))
        figures.append(SplitFigure(split, fig))
    meta = base_meta(NAME, ds, parsed, {p.view: [p.x, p.y] for _, p in panels}, truncation, split_by=split_by,
                     mode=mode, views=[p.view for _, p in panels],
                     marks={"safe_zone": f"lower >= {readings.SAFE_LOWER}",
                            "truncation_mark": f"truncation_rate > {readings.TRUNCATION_MARK}"})
    return Projection(NAME, rows, figures, notes, meta, findings)
