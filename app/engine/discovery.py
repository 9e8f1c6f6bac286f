"""Discovery: the tables that say what a dataset holds (its evals, tasks and views).

The CLI's ``evals``/``tasks``/``views`` commands, the overview page and the filter bar
list these; they join what ``dataset.json`` says with how much data each eval and task
actually has, counted from the cell table.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from app.engine.dimensions import normalise_value, value_order
from app.engine.layout import N_OUT, Layout
from app.engine.meta import DatasetMeta

EVAL_COLUMNS = ["eval_id", "model", "template", "sampler", "label", "groups", "max_tokens", "points", "samples"]
TASK_COLUMNS = ["base_task", "label", "guess_rate", "params", "values", "points", "samples"]
VIEW_COLUMNS = ["name", "base_task", "group_by", "filters"]


def evals_table(layout: Layout, meta: DatasetMeta) -> pd.DataFrame:
    """One row per eval: identity, label, groups, budget and how much data it has; sorted by label."""
    lay = layout
    counts = np.bincount(lay.point_eval, weights=lay.cell_count.reshape(-1, N_OUT).sum(1),
                         minlength=len(lay.eval_ids))
    points = np.bincount(lay.point_eval, minlength=len(lay.eval_ids))
    by_id = {e.eval_id: e for e in meta.evals}
    rows = []
    for code, eid in enumerate(lay.eval_ids):
        e = by_id[eid]
        rows.append({"eval_id": e.eval_id, "model": e.model, "template": e.template, "sampler": e.sampler,
                     "label": e.label, "groups": list(e.groups), "max_tokens": e.max_tokens,
                     "points": int(points[code]), "samples": int(counts[code])})
    return pd.DataFrame(rows, columns=EVAL_COLUMNS).sort_values("label", kind="stable", ignore_index=True)


def tasks_table(layout: Layout) -> pd.DataFrame:
    """One row per task with its params and the values each takes."""
    lay = layout
    counts = np.bincount(lay.point_task, weights=lay.cell_count.reshape(-1, N_OUT).sum(1), minlength=lay.n_tasks)
    rows = []
    for code, name in enumerate(lay.task_names):
        t = lay.tasks[name]
        mask = lay.point_task == code
        values: dict[str, set[Any]] = {}
        for pr in np.unique(lay.point_pr[mask]):
            for k, v in lay.params[pr].items():
                values.setdefault(k, set()).add(normalise_value(v))
        keys = list(t.params) + sorted(k for k in values if k not in t.params)
        rows.append({"base_task": name, "label": t.label, "guess_rate": t.guess_rate,
                     "params": keys, "values": {k: value_order(values.get(k, ())) for k in keys},
                     "points": int(mask.sum()), "samples": int(counts[code])})
    return pd.DataFrame(rows, columns=TASK_COLUMNS)


def views_table(meta: DatasetMeta) -> pd.DataFrame:
    """Named projections from dataset.json: task, two (or more) group-by dims, fixed filters."""
    return pd.DataFrame([v.to_json() for v in meta.views], columns=VIEW_COLUMNS)
