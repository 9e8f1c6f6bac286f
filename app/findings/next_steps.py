"""The spiderweb's next steps (the seed's tip): weakest → surface, most token-hungry → compression,
elevated truncation → hazard.

A pure ranking of the spiderweb's own rows (one per eval × axis value): each step says
what it found and names the page and the filters that show it, so the dashboard, the
report and the CLI all point to the same places.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

from app.figures.common import axis_label, num, pct
from app.findings.base import link
from app.findings.spiderweb import GENERALIST_MAX_TRUNCATION

ELEVATED_TRUNCATION = GENERALIST_MAX_TRUNCATION  # above a generalist's ceiling counts as elevated
LIMIT = 3                                        # steps per page
PAGES = ("surface", "compression", "hazard")     # in the order the seed's tip reads them
MAX_LABEL = 48                                   # a longer eval label is cut and keeps its id


@dataclass(frozen=True)
class NextStep:
    """One next step: what it says, the page that explains it and the filters that narrow that page to it.

    ``filters`` names only the eval and the axis value (``{"eval_id": [e], axis: [v]}``): a caller
    keeping its own selection lays them over it (the dashboard carries its filter bar); ``link``
    is the page with just these filters, over ``base`` when given.
    """

    text: str
    page: str
    filters: Mapping[str, Any] = field(default_factory=dict)
    link: str = ""


def _ok(value: Any) -> bool:
    return isinstance(value, (int, float)) and not math.isnan(value)


def _who(row: Mapping[str, Any], axis: str) -> str:
    label = str(row.get("label") or row["eval_id"])
    if len(label) > MAX_LABEL:  # imported labels can be very long; the eval id keeps it unambiguous
        label = f"{label[:40]}… ({row['eval_id']})"
    return f"{label} · {axis_label(row[axis])}"


def _top(rows: Sequence[Mapping[str, Any]], axis: str, key: str, order: Callable[[Mapping[str, Any]], Any],
         distinct: str, limit: int, keep: Callable[[Mapping[str, Any]], bool] = lambda r: True
         ) -> list[Mapping[str, Any]]:
    """Best-ranked rows, one per ``distinct`` value, so one eval or task does not fill the list."""
    ranked = sorted((r for r in rows if axis in r and _ok(r.get(key)) and keep(r)), key=order)
    seen: set[Any] = set()
    out = []
    for r in ranked:
        if r[distinct] not in seen:
            seen.add(r[distinct])
            out.append(r)
    return out[:limit]


def next_steps(rows: Sequence[Mapping[str, Any]], axis: str, *, limit: int = LIMIT,
               base: Mapping[str, Any] | None = None) -> list[NextStep]:
    """Up to ``limit`` weakest and most token-hungry axis values and most truncated evals, page by page.

    Rules: *surface*: lowest accuracy (Wilson center), one entry per axis value (each with its
    weakest eval); *compression*: highest mean completion tokens, one per axis value;
    *hazard*: highest truncation rate among rows above :data:`ELEVATED_TRUNCATION`, one per eval
    (a context wall belongs to a model). ``base``: filters the links start from (the report's
    selection); the steps' own eval and axis value replace those keys.
    """
    def step(row: Mapping[str, Any], page: str, text: str) -> NextStep:
        filters = {"eval_id": [row["eval_id"]], axis: [row[axis]]}
        return NextStep(f"{_who(row, axis)}: {text}", page, filters, link(page, {**(base or {}), **filters}))

    weak = _top(rows, axis, "center", lambda r: (r["center"], str(r[axis])), axis, limit)
    costly = _top(rows, axis, "tokens_mean", lambda r: -r["tokens_mean"], axis, limit)
    truncated = _top(rows, axis, "truncation_rate", lambda r: -r["truncation_rate"], "eval_id", limit,
                     lambda r: r["truncation_rate"] > ELEVATED_TRUNCATION)
    return ([step(r, "surface", f"accuracy {pct(r['center'])}"
                  + (f" (95% CI {pct(r['lower'])}–{pct(r['upper'])})" if _ok(r.get("lower")) else ""))
             for r in weak]
            + [step(r, "compression", f"{num(r['tokens_mean'])} tokens on average") for r in costly]
            + [step(r, "hazard", f"{pct(r['truncation_rate'])} truncated") for r in truncated])


__all__ = ["ELEVATED_TRUNCATION", "LIMIT", "NextStep", "PAGES", "next_steps"]
