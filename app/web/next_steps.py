"""The spiderweb's 'next steps' (the seed's tip): weak → surface, costly → compression, truncation → hazard.

Ranks the spiderweb's own rows; each step is a link that keeps the page's
filters and narrows them to the eval and axis value it names.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from app.engine.archetypes import GENERALIST_MAX_TRUNCATION
from app.figures.common import axis_label, num, pct
from app.web.registry import Registry
from app.web.state import State, carry

ELEVATED_TRUNCATION = GENERALIST_MAX_TRUNCATION  # above a generalist's ceiling counts as elevated


@dataclass(frozen=True)
class Step:
    """One next step: what it says and the page and query it links to."""

    text: str
    page: str
    search: str


def _ok(value: Any) -> bool:
    return isinstance(value, (int, float)) and not math.isnan(value)


def _who(row: Mapping[str, Any], axis: str) -> str:
    label = str(row.get("label") or row["eval_id"])
    if len(label) > 48:  # imported labels can be very long; the eval id keeps it unambiguous
        label = f"{label[:40]}… ({row['eval_id']})"
    return f"{label} · {axis_label(row[axis])}"


def next_steps(rows: Sequence[Mapping[str, Any]], axis: str, state: State, registry: Registry,
               limit: int = 3) -> dict[str, list[Step]]:
    """Up to ``limit`` weakest and most token-hungry axis values and most truncated evals, as links."""

    def link(row: Mapping[str, Any], page: str) -> str:
        return carry(state, page, registry, {"eval_id": [row["eval_id"]], axis: [row[axis]]})

    def top(key: str, order, distinct: str, keep=lambda r: True) -> list[Mapping[str, Any]]:
        """Best-ranked rows, one per ``distinct`` value, so one eval or task does not fill the list."""
        ranked = sorted((r for r in rows if axis in r and _ok(r.get(key)) and keep(r)), key=order)
        seen: set[Any] = set()
        out = []
        for r in ranked:
            if r[distinct] not in seen:
                seen.add(r[distinct])
                out.append(r)
        return out[:limit]

    weak = top("center", lambda r: (r["center"], str(r[axis])), axis)  # weakest tasks, each with its weakest eval
    costly = top("tokens_mean", lambda r: -r["tokens_mean"], axis)
    truncated = top("truncation_rate", lambda r: -r["truncation_rate"], "eval_id",  # a context wall is per eval
                    lambda r: r["truncation_rate"] > ELEVATED_TRUNCATION)
    return {
        "surface": [Step(f"{_who(r, axis)}: accuracy {pct(r['center'])}"
                         + (f" (95% CI {pct(r['lower'])}–{pct(r['upper'])})" if _ok(r.get("lower")) else ""),
                         "surface", link(r, "surface")) for r in weak],
        "compression": [Step(f"{_who(r, axis)}: {num(r['tokens_mean'])} tokens on average", "compression",
                             link(r, "compression")) for r in costly],
        "hazard": [Step(f"{_who(r, axis)}: {pct(r['truncation_rate'])} truncated", "hazard", link(r, "hazard"))
                   for r in truncated],
    }
