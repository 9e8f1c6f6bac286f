"""The spiderweb page's 'next steps': the findings' ranking (:mod:`app.findings.next_steps`) as page links.

Each step's link keeps the page's own dataset, filters and truncation and narrows them
to the eval and axis value the step names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from app.findings import next_steps as ranking
from app.web.registry import Registry
from app.web.state import State, carry

ELEVATED_TRUNCATION = ranking.ELEVATED_TRUNCATION


@dataclass(frozen=True)
class Step:
    """One next step: what it says and the page and query it links to."""

    text: str
    page: str
    search: str


def next_steps(rows: Sequence[Mapping[str, Any]], axis: str, state: State, registry: Registry,
               limit: int = ranking.LIMIT) -> dict[str, list[Step]]:
    """The ranked steps per page (surface, compression, hazard), each a query carrying the page's state."""
    out: dict[str, list[Step]] = {page: [] for page in ranking.PAGES}
    for s in ranking.next_steps(rows, axis, limit=limit):
        out[s.page].append(Step(s.text, s.page, carry(state, s.page, registry, dict(s.filters))))
    return out
