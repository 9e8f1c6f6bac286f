"""Views on demand: run a projection once, keep its figures, table and notes in the cache.

A view is stored as separate entries (summary, each figure's JSON text, the CSV)
so a page asks for the small summary first and the browser then fetches each
figure's pre-encoded JSON, which a cached repeat serves without re-encoding.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Callable, Mapping

from flask import g
from plotly.utils import PlotlyJSONEncoder

from app import bounds
from app.engine import Dataset
from app.engine.bounded_json import cut_strings
from app.engine.errors import InputError
from app.projections.base import to_csv
from app.projections.spec import SPECS, dimension_values
from app.web.cache import view_key
from app.web.services import Services
from app.web.state import State

log = logging.getLogger(__name__)
MAX_PATH_CHARS = 64  # a finding's link: a page's path before its query (bounded by bounds.MAX_QUERY_CHARS)
ROW_COLUMNS = ("eval_id", "label", "center", "lower", "upper", "n", "truncation_rate", "tokens_mean")


class ViewStatus(StrEnum):
    """Whether a view has figures (ok) or only a sentence saying why not (empty)."""

    OK = "ok"
    EMPTY = "empty"


@dataclass(frozen=True)
class FigureInfo:
    """One figure of a view: its split value (None when not split), export size and JSON size in bytes."""

    title: str | None
    width: int
    height: int
    bytes: int


@dataclass
class ViewSummary:
    """What a page needs to lay out a view before fetching its figures; cached as plain JSON.

    ``rows``: the table's rows a page reads itself (the spiderweb's next steps), else
    empty; ``n_rows``: the whole table's length; ``meta``: the projection's meta;
    ``findings``: the view's findings as ``Finding.to_json`` records (the "Reading this
    view" card lists them with their links).
    """

    status: ViewStatus
    message: str = ""
    figures: list[FigureInfo] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    rows: list[dict[str, Any]] = field(default_factory=list)
    n_rows: int = 0
    compute_ms: float = 0.0
    findings: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """Plain JSON types only: what the cache stores (no pickled objects)."""
        return {"status": self.status.value, "message": self.message,
                "figures": [{"title": f.title, "width": f.width, "height": f.height, "bytes": f.bytes}
                            for f in self.figures],
                "notes": list(self.notes), "meta": self.meta, "rows": self.rows, "n_rows": self.n_rows,
                "compute_ms": self.compute_ms, "findings": list(self.findings)}

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> "ViewSummary":
        return cls(status=ViewStatus(doc["status"]), message=doc.get("message", ""),
                   figures=[FigureInfo(f["title"], int(f["width"]), int(f["height"]), int(f["bytes"]))
                            for f in doc.get("figures", [])],
                   notes=list(doc.get("notes", [])), meta=dict(doc.get("meta", {})), rows=list(doc.get("rows", [])),
                   n_rows=int(doc.get("n_rows", 0)), compute_ms=float(doc.get("compute_ms", 0.0)),
                   findings=list(doc.get("findings", [])))


@dataclass
class View:
    """The cached summary of a view and whether it came from the cache."""

    key: str
    summary: ViewSummary
    hit: bool
    run: State  # the state the projection ran with (split narrowed to the value shown)
    splits: list[Any]  # every split value the filters keep, for the page's picker


def _split_values(services: Services, state: State) -> list[Any]:
    """Values of the split dimension that the filters keep, in axis order (cached: costly at scale)."""
    spec = SPECS[state.page]
    if state.split is None or spec.split is None:
        return []
    ds = services.registry.get(state.dataset)
    inputs = {spec.split: state.split, **{name: state.options[name] for name in spec.split_inputs}}
    key = view_key(State(state.page, state.dataset, state.filters, "failure", inputs), ds.version) + ":splits"
    values = services.cache.get(key)
    if values is None:
        try:
            if spec.split_values is not None:
                values = spec.split_values(ds, ds.parse_filters(state.filters), state.run_options())
            else:
                values = dimension_values(ds, state.filters, state.split)
        except InputError:
            values = []
        services.cache.set(key, values)
    return list(values)


def resolve(services: Services, state: State) -> tuple[State, list[Any]]:
    """The state to run (one split value: the one asked for, else the first) and the split values."""
    splits = _split_values(services, state)
    if state.split is None or not splits:
        return state, splits
    return state.showing(state.show if state.show in splits else splits[0]), splits


def _note_cache(hit: bool, started: float, waited: float = 0.0) -> None:
    """Remember hit/miss, time and time spent waiting for another request's computation (response headers)."""
    g.profile_cache = "hit" if hit and getattr(g, "profile_cache", "hit") == "hit" else "miss"
    g.profile_ms = getattr(g, "profile_ms", 0.0) + (time.perf_counter() - started) * 1000
    g.profile_wait_ms = getattr(g, "profile_wait_ms", 0.0) + waited * 1000


def page_figure_json(figure: Any) -> tuple[str, int, int]:
    """Figure JSON for the page (width follows the window) and its export size.

    Encoded once from a copy of the figure (``to_dict``: numbers as plotly.js's typed arrays), with the
    layout changed before encoding rather than the JSON decoded and encoded again (that took 15–80 ms on
    a 64-eval spiderweb).
    """
    doc = figure.to_dict()
    layout = doc.setdefault("layout", {})
    width, height = int(layout.pop("width", 1200) or 1200), int(layout.get("height") or 800)
    layout["autosize"] = True
    for trace in doc.get("data", []):
        trace.pop("uid", None)  # as plotly's to_json
    return json.dumps(doc, cls=PlotlyJSONEncoder, separators=(",", ":")), width, height


def check_figure_size(size: int) -> None:
    """Refuse to serve a figure whose JSON exceeds ``bounds.MAX_FIGURE_BYTES``; say how to narrow the view."""
    if size > bounds.MAX_FIGURE_BYTES:
        raise InputError(f"This view's figure would be {size / 1e6:,.1f} MB, more than the "
                         f"{bounds.MAX_FIGURE_BYTES / 1e6:,.1f} MB a page draws. Narrow it: choose fewer evals or "
                         "tasks in the filter bar, split it by a dimension, or choose coarser options.")


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str, allow_nan=False) if value is not None else "null")


def _compute(services: Services, ds: Dataset, state: State, key: str) -> dict[str, Any]:
    """Run the view on ``ds`` (the dataset its key was made from); every part of it, also offered to the cache.

    The caller takes the part it needs from the returned entries, not from the cache,
    which may be down or refuse an entry (too large).
    """
    spec = SPECS[state.page]
    started = time.perf_counter()
    entries: dict[str, Any] = {}
    try:
        projection = spec.run(ds, filters=state.filters, truncation=state.truncation, **state.run_options())
        drawn = [page_figure_json(figure) for _, figure in projection.figures]
        check_figure_size(max((len(text) for text, _, _ in drawn), default=0))
    except InputError as exc:  # nothing to draw: the page's empty state, cached like any view
        summary = ViewSummary(ViewStatus.EMPTY, message=str(exc))
    else:
        figures = []
        for index, ((title, _), (text, width, height)) in enumerate(zip(projection.figures, drawn)):
            entries[f"{key}:fig:{index}"] = text
            figures.append(FigureInfo(title, width, height, len(text)))
        entries[f"{key}:csv"] = to_csv(projection, text_limit=bounds.MAX_TEXT_CHARS)
        rows = projection.rows
        keep = [c for c in rows.columns if c in ROW_COLUMNS or c == projection.meta.get("group_by")]
        small = rows[keep] if spec.next_steps else rows.iloc[0:0]
        summary = ViewSummary(ViewStatus.OK, figures=figures, notes=list(projection.notes),
                              meta=_jsonable(dict(projection.meta)),
                              rows=json.loads(small.to_json(orient="records")), n_rows=int(len(rows)),
                              findings=[_jsonable(f.to_json()) for f in projection.findings])
    summary.compute_ms = round((time.perf_counter() - started) * 1000, 1)
    # notes and rows quote labels: a 1 MB label made a 15 MB summary (cut_strings: what a page can show)
    doc = cut_strings(summary.to_json(), bounds.MAX_TEXT_CHARS)
    for shown, whole in zip(doc["findings"], summary.findings):  # a link works whole or not at all
        link = str(whole.get("link") or "")
        shown["link"] = link if len(link) <= bounds.MAX_QUERY_CHARS + MAX_PATH_CHARS else ""
    entries[f"{key}:summary"] = doc
    services.cache.set_many(entries)
    log.info("computed %s in %.0f ms (%s)", state.page, summary.compute_ms, summary.status.value)
    return entries


def _named(summary: Mapping[str, Any], suffix: str) -> bool:
    """Whether a view with this summary has part ``suffix`` ('fig:N', 'csv'): an empty view has neither."""
    if summary.get("status") != ViewStatus.OK.value:
        return False
    if suffix.startswith("fig:"):
        index = suffix[len("fig:"):]
        return index.isdigit() and int(index) < len(summary.get("figures", []))
    return suffix == "csv"


def _cached(services: Services, state: State, want: Callable[[Mapping[str, Any]], list[str]],
            compute: bool = True) -> tuple[dict[str, Any] | None, str, bool, State, list[Any]]:
    """A view's summary and the parts ``want(summary)`` names ('fig:0', 'csv'), computing the view at most once.

    A miss takes the view's lock first (:mod:`app.web.single_flight`): a request that finds
    another one computing the same view waits for it and reads the cache instead. Parts come
    from the computation itself when the cache cannot give them back (down, or an entry too large).
    Returns ({"summary": …, part: …} or None when not cached and ``compute`` is off, the view's key,
    whether it was a hit, the state run, the split values).
    """
    started = time.perf_counter()
    ds = services.registry.get(state.dataset)
    run, splits = resolve(services, state)
    key = view_key(run, ds.version)

    def read() -> dict[str, Any] | None:
        summary = services.cache.get(f"{key}:summary")
        if summary is None:
            return None
        parts = {suffix: services.cache.get(f"{key}:{suffix}") for suffix in want(summary)}
        return None if any(value is None for value in parts.values()) else {"summary": summary, **parts}

    found, waited = read(), 0.0
    hit = found is not None
    if not hit and compute:
        with services.locks.hold(key) as waited:
            found = read()  # computed by another request meanwhile?
            hit = found is not None
            if found is None:
                entries = _compute(services, ds, run, key)
                summary = entries[f"{key}:summary"]
                found = {"summary": summary, **{s: entries.get(f"{key}:{s}") for s in want(summary)}}
    _note_cache(hit, started, waited)
    return found, key, hit, run, splits


def view(services: Services, state: State) -> View:
    """The view's summary, computing and caching the whole view on a miss."""
    found, key, hit, run, splits = _cached(services, state, lambda _: [])
    assert found is not None
    return View(key, ViewSummary.from_json(found["summary"]), hit, run, splits)


def cached_view(services: Services, state: State) -> View | None:
    """The view's summary if the cache has it (nothing is computed): a page then lays it out at once."""
    found, key, hit, run, splits = _cached(services, state, lambda _: [], compute=False)
    return View(key, ViewSummary.from_json(found["summary"]), hit, run, splits) if found else None


def part(services: Services, state: State, suffix: str) -> str | None:
    """A cached part ('fig:0', 'csv') of a view, computing the view if it is missing; None if it has none."""
    found, *_ = _cached(services, state, lambda summary: [suffix] if _named(summary, suffix) else [])
    assert found is not None
    return found.get(suffix)


def figures(services: Services, state: State) -> tuple[View, list[str]]:
    """The view and every figure's JSON text, in order, computing the view at most once."""
    def every_figure(summary: Mapping[str, Any]) -> list[str]:
        return [f"fig:{i}" for i in range(len(summary.get("figures", []))) if _named(summary, f"fig:{i}")]

    found, key, hit, run, splits = _cached(services, state, every_figure)
    assert found is not None
    summary = found.pop("summary")
    return View(key, ViewSummary.from_json(summary), hit, run, splits), [found[s] for s in every_figure(summary)]
