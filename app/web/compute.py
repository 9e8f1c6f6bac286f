"""Views on demand: run a projection once, keep its figures, table and notes in the cache.

A view is stored as separate entries (summary, each figure's JSON text, the CSV)
so a page asks for the small summary first and the browser then fetches each
figure's pre-encoded JSON, which a cached repeat serves without re-encoding.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from typing import Any

from flask import g

from app.engine.errors import InputError
from app.projections import PROJECTIONS, to_csv
from app.projections.surface import select_views
from app.web.cache import view_key
from app.web.services import Services
from app.web.state import State

log = logging.getLogger(__name__)
ROW_COLUMNS = ("eval_id", "label", "center", "lower", "upper", "n", "truncation_rate", "tokens_mean")


@dataclass
class View:
    """The cached summary of a view and whether it came from the cache."""

    key: str
    summary: dict[str, Any]
    hit: bool
    run: State  # the state the projection ran with (split narrowed to the value shown)
    splits: list[Any]  # every split value the filters keep, for the page's picker


def _split_values(services: Services, state: State) -> list[Any]:
    """Values of the split dimension that the filters keep, in axis order (cached: costly at scale)."""
    if state.split is None:
        return []
    ds = services.registry.get(state.dataset)
    base = State(state.page, state.dataset, state.filters, "failure",
                 {"split_by": state.split, **({"view": state.options["view"]} if state.page == "surface" else {})})
    key = view_key(base, ds.version) + ":splits"
    values = services.cache.get(key)
    if values is None:
        try:
            if state.page == "surface":
                chosen = select_views(ds, ds.parse_filters(state.filters), list(state.options["view"]) or None)
                values = list(dict.fromkeys(v.base_task for v in chosen if v.base_task))
            else:
                column = ds.aggregate(state.filters, [state.split], quantiles=False)[state.split]
                values = [v for v in column.tolist() if v is not None]
        except InputError:
            values = []
        services.cache.set(key, values)
    return values


def resolve(services: Services, state: State) -> tuple[State, list[Any]]:
    """The state to run (one split value: the one asked for, else the first) and the split values."""
    splits = _split_values(services, state)
    if state.split is None or not splits:
        return state, splits
    return state.showing(state.show if state.show in splits else splits[0]), splits


def _note_cache(hit: bool, started: float) -> None:
    """Remember hit/miss and time for the response headers (see app.web.routes)."""
    g.profile_cache = "hit" if hit and getattr(g, "profile_cache", "hit") == "hit" else "miss"
    g.profile_ms = getattr(g, "profile_ms", 0.0) + (time.perf_counter() - started) * 1000


def page_figure_json(figure: Any) -> tuple[str, int, int]:
    """Figure JSON for the page (width follows the window) and its export size."""
    doc = json.loads(figure.to_json())
    layout = doc.setdefault("layout", {})
    width, height = int(layout.pop("width", 1200) or 1200), int(layout.get("height") or 800)
    layout["autosize"] = True
    return json.dumps(doc, separators=(",", ":")), width, height


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str, allow_nan=False) if value is not None else "null")


def _compute(services: Services, state: State, key: str) -> dict[str, Any]:
    ds = services.registry.get(state.dataset)
    started = time.perf_counter()
    entries: dict[str, Any] = {}
    try:
        projection = PROJECTIONS[state.page].run(ds, filters=state.filters, truncation=state.truncation,
                                                  **state.run_options())
    except InputError as exc:  # nothing to draw: the page's empty state, cached like any view
        summary = {"status": "empty", "message": str(exc), "figures": [], "notes": [], "meta": {}, "rows": []}
    else:
        figures = []
        for index, (title, figure) in enumerate(projection.figures):
            text, width, height = page_figure_json(figure)
            entries[f"{key}:fig:{index}"] = text
            figures.append({"title": title, "width": width, "height": height, "bytes": len(text)})
        entries[f"{key}:csv"] = to_csv(projection)
        rows = projection.rows
        keep = [c for c in rows.columns if c in ROW_COLUMNS or c == projection.meta.get("group_by")]
        small = rows[keep] if state.page == "spiderweb" else rows.iloc[0:0]
        summary = {"status": "ok", "message": "", "figures": figures, "notes": list(projection.notes),
                   "meta": _jsonable({k: v for k, v in projection.meta.items()}),
                   "rows": json.loads(small.to_json(orient="records")), "n_rows": int(len(rows))}
    summary["compute_ms"] = round((time.perf_counter() - started) * 1000, 1)
    entries[f"{key}:summary"] = summary
    services.cache.set_many(entries)
    log.info("computed %s in %.0f ms (%s)", state.page, summary["compute_ms"], summary["status"])
    return summary


def _cached(services: Services, state: State, suffix: str) -> tuple[Any, View]:
    """One cached part of a view (its summary, 'fig:0', 'csv'), computing the view on a miss."""
    started = time.perf_counter()
    ds = services.registry.get(state.dataset)
    run, splits = resolve(services, state)
    key = view_key(run, ds.version)
    value = services.cache.get(f"{key}:{suffix}")
    hit = value is not None
    if not hit:
        summary = _compute(services, run, key)
        value = summary if suffix == "summary" else services.cache.get(f"{key}:{suffix}")
    _note_cache(hit, started)
    return value, View(key, {}, hit, run, splits)


def view(services: Services, state: State) -> View:
    """The view's summary, computing and caching the whole view on a miss."""
    summary, found = _cached(services, state, "summary")
    found.summary = summary
    return found


def part(services: Services, state: State, suffix: str) -> str | None:
    """A cached part ('fig:0', 'csv') of a view, computing the view if it is missing."""
    return _cached(services, state, suffix)[0]
