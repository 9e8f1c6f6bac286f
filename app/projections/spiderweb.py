"""spiderweb: per-eval fingerprint over the values of one dimension, plus archetypes."""

from __future__ import annotations

from typing import Any, Mapping

import pandas as pd

from app import bounds
from app.engine.dataset import Dataset
from app.engine.errors import InputError
from app.engine.stats import check_truncation
from app.figures import spiderweb as fig_spiderweb
from app.figures import spiderweb_matrix as fig_matrix
from app.findings import groups
from app.findings import spiderweb as archetypes
from app.projections.base import (
    EVAL_FILTER_KEYS,
    Projection,
    SplitFigure,
    base_meta,
    dim_option,
    empty_error,
    eval_order,
    plain,
    selection_text,
    token_provenance_note,
)

NAME = "spiderweb"
MATRIX = "matrix"  # the matrix figure's name: its card's title, and the CLI's spiderweb-matrix.png
STYLES = fig_spiderweb.STYLES


def _reference_filters(parsed: Mapping[str, Any], tasks: list[str]) -> dict[str, Any]:
    """Same tasks and point filters, every eval: the peers for the token median."""
    ref = {k: v for k, v in parsed.items() if k not in EVAL_FILTER_KEYS and not k.startswith("groups.")}
    ref["base_task"] = tasks
    return ref


def verdicts(ds: Dataset, parsed: Mapping[str, Any], truncation: str,
             per_task: pd.DataFrame | None = None) -> dict[str, archetypes.Verdict]:
    """Archetype per eval from its per-task rows of the selection.

    ``per_task``: the selection's aggregate by (eval_id, base_task) when the caller
    already has it. The rules read only counters and token means, so the other
    queries skip token quantiles; the peers' query is skipped when the selection
    names no evals, because the peers are then the selection itself.
    """
    if per_task is None:
        per_task = ds.aggregate(parsed, ["eval_id", "base_task"], truncation, quantiles=False)
    if per_task.empty:
        return {}
    overall = ds.aggregate(parsed, ["eval_id"], truncation, quantiles=False)
    reference = None
    if any(k in EVAL_FILTER_KEYS or k.startswith("groups.") for k in parsed):
        ref = _reference_filters(parsed, sorted(set(per_task["base_task"])))
        reference = ds.aggregate(ref, ["eval_id"], truncation, quantiles=False)
    return archetypes.classify_all(per_task, overall, reference)


def run(ds: Dataset, *, filters=None, truncation: str = "failure", group_by: str = "base_task",
        style: str = "radar") -> Projection:
    """Aggregate by (eval, ``group_by``), classify each eval, draw a radar or bars."""
    truncation = check_truncation(truncation)
    if style not in STYLES:
        raise InputError(f"spiderweb style must be radar or bars, not {style!r}")
    parsed = ds.parse_filters(filters)
    axis = dim_option(ds, group_by, "spiderweb --group-by")
    if axis is None or axis == "eval_id":
        raise InputError("spiderweb draws one polygon per eval over the values of --group-by; "
                         "choose a dimension other than eval_id/none, e.g. base_task or manifold.target_tokens")
    rows = ds.aggregate(parsed, ["eval_id", axis], truncation)
    if rows.empty:
        raise empty_error(ds, parsed, NAME)
    values = ds.dimension(axis).values
    present = set(rows[axis])
    axes = [v for v in values if v in present]
    labels = eval_order(ds, rows["eval_id"])
    rows = rows.assign(_e=rows["eval_id"].map(list(labels).index), _a=rows[axis].map(axes.index))
    rows = rows.sort_values(["_e", "_a"], kind="stable").drop(columns=["_e", "_a"]).reset_index(drop=True)
    rows.insert(1, "label", rows["eval_id"].map(labels))

    found = verdicts(ds, parsed, truncation, rows if axis == "base_task" else None)
    found = {e: found[e] for e in labels if e in found}
    findings = archetypes.findings(found, labels, filters=parsed, group_by=axis, truncation=truncation)
    many = len(labels) > bounds.MAX_RADAR_EVALS
    if many:  # one sentence per archetype naming its evals; each eval's reason is in its finding
        notes = groups.notes(findings, labels)
    else:
        notes = [f.text for f in findings]   # each finding's sentence, said once
    if len(axes) < 3 and style == "radar":
        notes.append(f"Only {len(axes)} value(s) of {axis}: a radar needs 3 or more axes to have a shape; "
                     "the bar style (--format barpng) reads better here.")
    missing = len(labels) * len(axes) - len(rows)
    if missing:
        notes.append(f"{missing} eval × {axis} combination(s) have no samples and are left as gaps.")
    notes += token_provenance_note(ds)
    if not ds.has_tokens:
        notes.append("This dataset has no token counts: the token row is empty and no eval can be an "
                     "Inefficient Reasoner.")

    title = f"Spiderweb: accuracy fingerprint by {axis}"
    figures = []
    drawn = labels
    if many:  # too many polygons to overlay: the matrix leads, the radar draws the first few
        figures.append(SplitFigure(MATRIX, fig_matrix.build(
            rows, group_by=axis, labels=labels, title=f"Spiderweb: eval × {axis} matrix ({len(labels)} evals)",
            subtitle=selection_text(ds, parsed, labels, truncation).replace("(see legend)", "(one row each)"),
            verdicts=found, axes=axes)))
        drawn = dict(list(labels.items())[:bounds.MAX_RADAR_EVALS])
        title += f" — first {len(drawn)} of {len(labels)} evals"
        notes.insert(0, f"{len(labels)} evals: the matrix leads (one row per eval, sortable from its menu; click a "
                        f"cell to open its surface); the {'radar' if style == 'radar' else 'bar chart'} draws the "
                        f"first {len(drawn)} by label. Choose up to {bounds.MAX_RADAR_EVALS} evals in the Evals "
                        "filter (--filters eval_id) to draw those.")
    figure = fig_spiderweb.build(rows[rows["eval_id"].isin(list(drawn))], group_by=axis, labels=drawn, title=title,
                                 subtitle=selection_text(ds, parsed, drawn, truncation), style=style,
                                 verdicts=found, axes=axes)
    figures.append(SplitFigure(None, figure))
    meta = base_meta(NAME, ds, parsed, axis, truncation, style=style,
                     archetypes={e: {"label": labels.get(e), "archetype": v.archetype, "reason": v.reason,
                                     "numbers": plain(v.numbers)} for e, v in found.items()})
    if many:
        meta["radar_evals"] = list(drawn)
    return Projection(NAME, pd.DataFrame(rows), figures, notes, meta, findings)
