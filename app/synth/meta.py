"""``dataset.json`` content for a generated plan: evals, tasks and every 2-D view."""

from __future__ import annotations

import itertools
from typing import Any

from app.synth.plan import Plan

# Fixed, so regenerating with the same seed gives byte-identical files.
GENERATED_AT = "2026-01-01T00:00:00Z"


def view_name(task: str, a: str, b: str) -> str:
    """The name of the 2-D view over params ``a`` and ``b`` of ``task`` (the importers' naming)."""
    return f"{task}: {a} x {b}"


def views(plan: Plan) -> list[dict[str, Any]]:
    """Every pair of a task's params, the third (if any) aggregated over."""
    out = []
    for grid in plan.grids:
        names = [p.name for p in grid.spec.params]
        for a, b in itertools.combinations(names, 2):
            out.append({"name": view_name(grid.spec.name, a, b), "base_task": grid.spec.name,
                        "group_by": [f"params.{a}", f"params.{b}"], "filters": {}})
    return out


def build_meta(plan: Plan, seed: int) -> dict[str, Any]:
    """The dataset description handed to ``write_dataset``."""
    name = "demo" if plan.scale == "demo" else f"synthetic-{plan.scale}"
    evals = [{"eval_id": eid, "model": e.model, "template": e.template, "sampler": e.sampler,
              "label": e.label, "groups": list(e.groups), "max_tokens": e.max_tokens}
             for eid, e in zip(plan.eval_ids, plan.evals)]
    tasks = [{"base_task": g.spec.name, "label": g.spec.label, "guess_rate": g.spec.guess_rate,
              "params": [p.name for p in g.spec.params]} for g in plan.grids]
    return {
        "name": name,
        "title": f"Synthetic profile data ({plan.scale} scale, seed {seed}; fictional models)",
        "samples": "samples.parquet",
        "evals": evals,
        "tasks": tasks,
        "views": views(plan),
        "provenance": {"source": f"synthetic: analyze.py demo --scale {plan.scale} --seed {seed}",
                       "generator": "app.synth", "imported": GENERATED_AT, "tokens": "exact",
                       "truth": "demo-truth.json"},
    }
