"""What a finding is: one reading of a projection, typed, with the numbers that decided it.

The user's workflow is a list of readings a person makes from the plots (an archetype, a
cliff, a context wall...). Each is made here, once, by a stated rule over the engine's
numbers, and carried as a :class:`Finding`: projections render their notes from findings,
figures draw the marks findings give them, and the report and pages list them. Nothing in
this package imports Dash.

A finding's ``link`` is the dashboard path and query that shows it (``/surface?filters=…``),
relative to the app's root: the web layer prefixes its base path, the report writes it as is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping
from urllib.parse import quote, urlencode

from app.engine.schema import canonical_json

SPIDERWEB_KINDS = ("balanced_generalist", "task_specialist", "truncation_victim", "inefficient_reasoner",
                   "no_clear_archetype")
SURFACE_KINDS = ("safe_zone", "sharp_cliff", "gradual_slope", "truncation_zone", "fragile")
COMPRESSION_KINDS = ("underthink", "overthink", "broken_loops", "healthy")
HAZARD_KINDS = ("early_failure", "late_rising", "context_wall", "flat_hazard_high_truncation")
KINDS: dict[str, tuple[str, ...]] = {
    "spiderweb": SPIDERWEB_KINDS,
    "surface": SURFACE_KINDS,
    "compression": COMPRESSION_KINDS,
    "hazard": HAZARD_KINDS,
}
# the failure modes of the user's workflow: how a model's reasoning goes wrong (compression) and when it
# fails (hazard). A healthy model gets none of these. Archetypes and surface shapes describe a model or a
# task's difficulty (any model has cliffs on some grid) and are not failure modes.
FAILURE_MODES = frozenset({"underthink", "overthink", "broken_loops", "early_failure", "context_wall",
                           "flat_hazard_high_truncation"})


@dataclass(frozen=True)
class Finding:
    """One reading: its kind, where it holds, the evidence (with n) and the user's action for it.

    ``where`` holds the coordinates (a cliff: ``{"dim": "params.count", "from": 16, "to": 20}``;
    a wall: ``{"bin_start": 8192, "bin_end": 8448}``); ``evidence`` the numbers the rule read,
    including the sample counts behind them; ``text`` the one sentence a note shows.
    """

    kind: str
    projection: str
    eval_id: str | None
    base_task: str | None
    text: str
    where: Mapping[str, Any] = field(default_factory=dict)
    evidence: Mapping[str, Any] = field(default_factory=dict)
    action: str = ""
    link: str = ""
    view: str | None = None

    def __post_init__(self) -> None:
        allowed = KINDS.get(self.projection)
        if allowed is None:
            raise ValueError(f"unknown projection {self.projection!r} for a finding; one of {sorted(KINDS)}")
        if self.kind not in allowed:
            raise ValueError(f"unknown {self.projection} finding kind {self.kind!r}; one of {list(allowed)}")

    @property
    def failure_mode(self) -> bool:
        """Whether this finding says something is wrong (a healthy model must get none of these)."""
        return self.kind in FAILURE_MODES

    def to_json(self) -> dict[str, Any]:
        """The record as the report's and ``--format json``'s ``findings`` entries write it."""
        from app.projections.base import plain  # the one JSON-safe conversion (numpy, NaN)

        return {"kind": self.kind, "projection": self.projection, "eval_id": self.eval_id,
                "base_task": self.base_task, "view": self.view, "where": plain(dict(self.where)),
                "evidence": plain(dict(self.evidence)), "action": self.action, "link": self.link,
                "text": self.text}


def link(page: str, filters: Mapping[str, Any] | None = None, **options: Any) -> str:
    """The dashboard path + query showing ``filters`` on ``page`` (options with a None value are left out).

    Written as the web's URL codec writes it (``filters`` as canonical JSON; a list option as
    repeated keys; an (a, b) range as ``a,b``), so the page opens exactly that view.
    """
    pairs: list[tuple[str, str]] = []
    if filters:
        pairs.append(("filters", canonical_json(dict(filters))))
    for name, value in options.items():
        if value is None:
            continue
        if isinstance(value, list):
            pairs += [(name, str(v)) for v in value]
        elif isinstance(value, tuple):
            pairs.append((name, ",".join(str(v) for v in value)))
        else:
            pairs.append((name, str(value)))
    query = urlencode(pairs, quote_via=quote, safe="!$'()*,:@/")
    return f"/{page}" + (f"?{query}" if query else "")


__all__ = ["COMPRESSION_KINDS", "Finding", "HAZARD_KINDS", "FAILURE_MODES", "KINDS", "SPIDERWEB_KINDS",
           "SURFACE_KINDS", "link"]
