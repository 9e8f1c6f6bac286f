"""URL state codec: query string ⇄ the one canonical state of a page.

Every control of a page lives in the query string. ``decode`` never fails: a bad
or stale parameter (unknown eval, malformed filters, a dimension this dataset
lacks) becomes a notice saying what was ignored and what is shown instead, and
the state falls back to the nearest valid view. ``encode`` writes only values
that differ from the page's defaults, so decode(encode(s)) == s.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any, Mapping
from urllib.parse import parse_qs, quote, urlencode

from app import bounds
from app.engine import Dataset
from app.engine import filters as flt
from app.engine.errors import InputError, listing
from app.engine.stats import check_truncation
from app.projections.base import EVAL_FILTER_KEYS, NONE
from app.projections.spec import SPECS, Option, OptionKind
from app.web.registry import Registry

OVERVIEW = "overview"  # the one page that is not a projection
COMMON_PARAMS = ("dataset", "filters", "truncation")  # every page's parameters besides its own options
SHOW = "show"  # which split value a split page draws (the CLI writes one file per value)
QueryValue = str | list[str]


@dataclass(frozen=True)
class State:
    """Everything that determines what a page shows."""

    page: str
    dataset: str
    filters: dict[str, Any] = field(default_factory=dict)
    truncation: str = "failure"
    options: dict[str, Any] = field(default_factory=dict)
    show: Any = None  # the split value drawn; None = the first one the filters keep

    def identity(self) -> str:
        """Canonical JSON of the whole state: the cache key's query part."""
        return json.dumps({"page": self.page, "dataset": self.dataset, "filters": self.filters,
                           "truncation": self.truncation, "options": _jsonable(self.options), "show": self.show},
                          sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    @property
    def split(self) -> str | None:
        """The dimension this page splits by (one figure per value), or None."""
        spec = SPECS.get(self.page)
        value = self.options.get(spec.split) if spec and spec.split else None
        return None if value in (None, NONE) else value

    def showing(self, value: Any) -> "State":
        """The state that draws only split value ``value``: the split dimension narrowed by filter."""
        split = self.split
        if split is None:
            raise ValueError(f"the {self.page} page is not split")
        filters = dict(self.filters)
        filters[split] = [value]
        return replace(self, filters=flt.parse_filters(filters), show=None)

    def with_filters(self, filters: Mapping[str, Any]) -> "State":
        """The same view under other filters (canonicalised)."""
        return replace(self, filters=flt.parse_filters(dict(filters)))

    def run_options(self) -> dict[str, Any]:
        """The projection's keyword arguments for this state's page options."""
        spec = SPECS[self.page]
        out: dict[str, Any] = {}
        for opt in spec.page_options:
            value = self.options[opt.name]
            out[opt.keyword] = (list(value) or None) if opt.kind is OptionKind.VIEWS else value
        return out


@dataclass
class Decoded:
    """A decoded URL: the state to show, what was ignored, and choices made for the user."""

    state: State
    notices: list[str]  # what in the link was ignored
    info: list[str] = field(default_factory=list)  # choices made for the user (not errors)


def value_text(value: Any) -> str:
    """A dimension value as the URL writes it (8.0 → '8')."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _jsonable(options: Mapping[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in options.items()}


def parse_query(search: str | None) -> dict[str, QueryValue]:
    """'?a=1&b=2&b=3' → {'a': '1', 'b': ['2', '3']} (the shape Dash Pages passes to layouts)."""
    text = (search or "").lstrip("?")
    parsed = parse_qs(text, keep_blank_values=True)
    return {k: v[0] if len(v) == 1 else v for k, v in parsed.items()}


def _single(query: Mapping[str, QueryValue], key: str, notices: list[str]) -> str | None:
    value = query.get(key)
    if isinstance(value, list):
        notices.append(f"'{key}' was given {len(value)} times; using the first ({value[0]!r}).")
        return value[0]
    return value


def _as_list(value: QueryValue | None) -> list[str]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def defaults(page: str, ds: Dataset) -> dict[str, Any]:
    """The page's options when the URL says nothing."""
    spec = SPECS.get(page)
    return {o.name: o.page_value(ds) for o in spec.page_options} if spec else {}


def _check_option(opt: Option, raw: QueryValue, ds: Dataset) -> tuple[Any, str | None]:
    """(valid value, None) or (None, why it is not valid)."""
    if opt.kind is OptionKind.VIEWS:
        names = set(ds.views()["name"])
        wanted = [v for v in dict.fromkeys(_as_list(raw)) if v != ""]
        unknown = [v for v in wanted if v not in names]
        keep = tuple(v for v in wanted if v in names)
        if unknown:
            return keep, f"unknown view(s) {listing(unknown)} for dataset {ds.name!r}; views: {listing(sorted(names))}"
        return keep, None
    if isinstance(raw, list):
        raw = raw[0]
    if opt.kind is OptionKind.CHOICE:
        if raw in opt.choices:
            return raw, None
        return None, f"must be one of {', '.join(opt.choices)}"
    if opt.kind is OptionKind.INT:
        text = raw.strip()
        if text.isdigit() and opt.in_bounds(int(text)):
            return int(text), None
        return None, f"must be {opt.bounds_text()}"
    if opt.kind is OptionKind.DIM_OR_NONE and raw == NONE:
        return NONE, None
    allowed = [d for d in ds.dimension_names if d not in opt.exclude]
    if raw in allowed:
        return raw, None
    what = "not allowed here" if raw in ds.dimension_names else f"not a dimension of dataset {ds.name!r}"
    extra = ", or none" if opt.kind is OptionKind.DIM_OR_NONE else ""
    return None, f"{raw!r} is {what}; valid: {listing(allowed, 40)}{extra}"


def check_filters(raw: Any, ds: Dataset) -> tuple[dict[str, Any], list[str]]:
    """Keep what is valid of a filter, key by key and value by value; say what was dropped."""
    try:
        parsed = flt.parse_filters(raw)
    except InputError as exc:
        return {}, [f"The filters in the link could not be read and were ignored ({exc}). Showing all samples."]
    kept: dict[str, Any] = {}
    notices: list[str] = []
    for key, values in parsed.items():
        try:
            kept.update(ds.parse_filters({key: values}))
            continue
        except InputError as exc:
            problem = str(exc)
        if key == "groups":
            known = set(ds.meta.tags)
            keep = [item for item in values if set(item) <= known]
        elif key in ds.dimension_names:
            valid = ds.dimension(key).values
            keep = [v for v in values if v in valid]
        else:
            keep = []
        if keep:
            kept[key] = keep
            notices.append(f"Part of the filter was ignored: {problem}. Kept {key}: "
                           f"{flt.groups_text(keep) if key == 'groups' else listing(keep)}.")
        else:
            notices.append(f"The filter on {key} was ignored: {problem}.")
    return flt.parse_filters(kept), notices


def _cap_grid_evals(page: str, filters: dict[str, Any], ds: Dataset, info: list[str]) -> dict[str, Any]:
    """With no eval chosen, a per-eval page of a large dataset opens on its first evals, not all.

    64 heatmap columns (or scatter rows, or curves) are unreadable and slow to draw; the
    cap is written into the filters (and so into the link and the CLI line), never silent.
    """
    spec = SPECS.get(page)
    mark = spec.per_eval_mark if spec else None
    cap = bounds.MAX_GRID_EVALS
    chooses_evals = any(k in EVAL_FILTER_KEYS or k.startswith("groups.") for k in filters)
    evals = ds.evals()["eval_id"].tolist()
    if mark is None or chooses_evals or len(evals) <= cap:
        return filters
    info.append(f"This dataset has {len(evals)} evals and the {page} page draws one {mark} per eval, so it opened "
                f"on the first {cap} (by label). Choose evals in the filter bar to see others.")
    return flt.parse_filters({**filters, "eval_id": evals[:cap]})


def decode(page: str, query: Mapping[str, QueryValue], registry: Registry) -> Decoded:
    """The valid state closest to what the query asks for, with a notice per thing ignored."""
    notices: list[str] = []
    spec = SPECS.get(page)
    known = set(COMMON_PARAMS) | ({o.name for o in spec.page_options} if spec else set())
    if spec and spec.split:
        known.add(SHOW)
    for key in query:
        if key not in known:
            notices.append(f"Unknown parameter '{key}' was ignored.")

    name = _single(query, "dataset", notices)
    if name is not None and name not in registry.names:
        notices.append(f"Unknown dataset {name!r}; showing {registry.default!r}. "
                       f"Datasets: {listing(registry.names)}.")
        name = None
    entry = registry.entry(name)
    ds = registry.get(entry.name)

    raw_filters = _single(query, "filters", notices)
    filters, filter_notices = check_filters(raw_filters, ds) if raw_filters not in (None, "") else ({}, [])
    notices += filter_notices
    info: list[str] = []
    filters = _cap_grid_evals(page, filters, ds, info)

    truncation = _single(query, "truncation", notices) or "failure"
    try:
        truncation = check_truncation(truncation)
    except InputError as exc:
        notices.append(f"{exc}; showing failure.")
        truncation = "failure"

    options = defaults(page, ds)
    for opt in spec.page_options if spec else ():
        if opt.name not in query:
            continue
        raw = query[opt.name]
        if opt.kind is not OptionKind.VIEWS and isinstance(raw, list):
            notices.append(f"'{opt.name}' was given {len(raw)} times; using the first ({raw[0]!r}).")
        value, problem = _check_option(opt, raw, ds)
        if problem:
            shown = "every view" if opt.kind is OptionKind.VIEWS and not value else options[opt.name]
            if opt.kind is OptionKind.VIEWS and value:
                shown = listing(value)
            notices.append(f"{opt.label} ({opt.name}) {problem}; showing {shown}.")
        if value is not None:
            options[opt.name] = value
    state = State(page, entry.name, filters, truncation, options)
    raw_show = _single(query, SHOW, notices) if SHOW in known else None
    if raw_show not in (None, ""):
        if state.split is None:
            notices.append(f"show={raw_show!r} was ignored: this view is not split.")
        else:
            values = {value_text(v): v for v in ds.dimension(state.split).values if v is not None}
            if raw_show in values:
                state = replace(state, show=values[raw_show])
            else:
                notices.append(f"show={raw_show!r} is not a value of {state.split}; showing the first one.")
    return Decoded(state, notices, info)


def encode(state: State, registry: Registry) -> str:
    """'?…' with the values that differ from the defaults ('' when none do)."""
    pairs: list[tuple[str, str]] = []
    if state.dataset != registry.default:
        pairs.append(("dataset", state.dataset))
    if state.filters:
        pairs.append(("filters", flt.canonical_json(state.filters)))
    if state.truncation != "failure":
        pairs.append(("truncation", state.truncation))
    spec = SPECS.get(state.page)
    if spec:
        base = defaults(state.page, registry.get(state.dataset))
        for opt in spec.page_options:
            value = state.options.get(opt.name, base[opt.name])
            if value == base[opt.name]:
                continue
            if opt.kind is OptionKind.VIEWS:
                pairs += [(opt.name, v) for v in value]
            else:
                pairs.append((opt.name, str(value)))
    if state.show is not None:
        pairs.append((SHOW, value_text(state.show)))
    if not pairs:
        return ""
    return "?" + urlencode(pairs, quote_via=quote, safe="!$'()*,:@/")


def carry(state: State, page: str, registry: Registry, overrides: Mapping[str, Any] | None = None) -> str:
    """Query for another page keeping dataset, filters and truncation (its own options default).

    ``overrides`` replaces filter keys (None removes one): the drill-down's eval and task.
    """
    filters = dict(state.filters)
    for key, value in (overrides or {}).items():
        if value is None:
            filters.pop(key, None)
        else:
            filters[key] = value
    target = State(page, state.dataset, flt.parse_filters(filters), state.truncation,
                   defaults(page, registry.get(state.dataset)))
    return encode(target, registry)
