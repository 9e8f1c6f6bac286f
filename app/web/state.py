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
from urllib.parse import parse_qs, urlencode, quote

from app.engine import Dataset
from app.engine import filters as flt
from app.engine.errors import InputError, listing
from app.web.registry import Registry
from app.web.specs import COMMON_PARAMS, NONE, SHOW, SPECS, TRUNCATION_MODES, Option

OVERVIEW = "overview"
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
        filters = dict(self.filters)
        filters[self.split] = [value]
        return replace(self, filters=flt.parse_filters(filters), show=None)

    def with_filters(self, filters: Mapping[str, Any]) -> "State":
        return replace(self, filters=flt.parse_filters(dict(filters)))

    def run_options(self) -> dict[str, Any]:
        """The projection's keyword arguments for this state's page options."""
        spec = SPECS[self.page]
        out: dict[str, Any] = {}
        for opt in spec.options:
            value = self.options[opt.name]
            out[opt.kwarg or opt.name] = (list(value) or None) if opt.kind == "views" else value
        return out


@dataclass
class Decoded:
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
    return {o.name: o.default(ds) for o in spec.options} if spec else {}


def _check_option(opt: Option, raw: QueryValue, ds: Dataset) -> tuple[Any, str | None]:
    """(valid value, None) or (None, why it is not valid)."""
    if opt.kind == "views":
        names = set(ds.views()["name"])
        wanted = [v for v in dict.fromkeys(_as_list(raw)) if v != ""]
        unknown = [v for v in wanted if v not in names]
        keep = tuple(v for v in wanted if v in names)
        if unknown:
            return keep, f"unknown view(s) {listing(unknown)} for dataset {ds.name!r}; views: {listing(sorted(names))}"
        return keep, None
    if isinstance(raw, list):
        raw = raw[0]
    if opt.kind == "choice":
        if raw in opt.choices:
            return raw, None
        return None, f"must be one of {', '.join(opt.choices)}"
    if opt.kind == "int":
        text = raw.strip()
        if text.isdigit() and opt.minimum <= int(text) <= opt.maximum:
            return int(text), None
        return None, f"must be a whole number from {opt.minimum} to {opt.maximum}"
    if opt.kind == "dim_or_none" and raw == NONE:
        return NONE, None
    allowed = [d for d in ds.dimension_names if d not in opt.exclude]
    if raw in allowed:
        return raw, None
    what = "not allowed here" if raw in ds.dimension_names else f"not a dimension of dataset {ds.name!r}"
    extra = ", or none" if opt.kind == "dim_or_none" else ""
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


# What each page draws per eval: pages that draw one of these per eval open on a few evals.
PER_EVAL_MARK = {"surface": "column of heatmaps", "compression": "row of scatter plots", "hazard": "curve"}
MAX_GRID_EVALS = 8


def _cap_grid_evals(page: str, filters: dict[str, Any], ds: Dataset, info: list[str]) -> dict[str, Any]:
    """With no eval chosen, a per-eval page of a large dataset opens on its first evals, not all.

    64 heatmap columns (or scatter rows, or curves) are unreadable and slow to draw; the
    cap is written into the filters (and so into the link and the CLI line), never silent.
    """
    chooses_evals = any(k in ("eval_id", "model", "template", "sampler", "groups") or k.startswith("groups.")
                        for k in filters)
    evals = ds.evals()["eval_id"].tolist()
    if page not in PER_EVAL_MARK or chooses_evals or len(evals) <= MAX_GRID_EVALS:
        return filters
    info.append(f"This dataset has {len(evals)} evals and the {page} page draws one {PER_EVAL_MARK[page]} "
                   f"per eval, so it opened on the first {MAX_GRID_EVALS} (by label). Choose evals in the "
                   "filter bar to see others.")
    return flt.parse_filters({**filters, "eval_id": evals[:MAX_GRID_EVALS]})


def decode(page: str, query: Mapping[str, QueryValue], registry: Registry) -> Decoded:
    """The valid state closest to what the query asks for, with a notice per thing ignored."""
    notices: list[str] = []
    spec = SPECS.get(page)
    known = set(COMMON_PARAMS) | ({o.name for o in spec.options} if spec else set())
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
    if truncation not in TRUNCATION_MODES:
        notices.append(f"truncation={truncation!r} must be one of {', '.join(TRUNCATION_MODES)}; "
                       "showing failure.")
        truncation = "failure"

    options = defaults(page, ds)
    for opt in spec.options if spec else ():
        if opt.name not in query:
            continue
        raw = query[opt.name]
        if opt.kind != "views" and isinstance(raw, list):
            notices.append(f"'{opt.name}' was given {len(raw)} times; using the first ({raw[0]!r}).")
        value, problem = _check_option(opt, raw, ds)
        if problem:
            shown = "every view" if opt.kind == "views" and not value else options[opt.name]
            if opt.kind == "views" and value:
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


BAR_KEYS = ("eval_id", "base_task", "groups")  # the filter bar's own fields; other keys go in "Other filters"


def _json_field(text: str | None, what: str) -> Any:
    if not text or not text.strip():
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{what} is not valid JSON ({exc.msg} at character {exc.pos})") from None


def bar_filters(evals: list[str] | None, tasks: list[str] | None, groups: str | None,
                other: str | None) -> dict[str, Any]:
    """The filter bar's fields as one --filters object (checked later by the engine's parser)."""
    raw = _json_field(other, "Other filters")
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise InputError('Other filters must be a JSON object such as {"params.length": [8, 16]}')
    clash = sorted(set(raw) & set(BAR_KEYS))
    if clash:
        raise InputError(f"Other filters: set {', '.join(clash)} with the Evals, Tasks and Groups fields")
    out = dict(raw)
    if evals:
        out["eval_id"] = list(evals)
    if tasks:
        out["base_task"] = list(tasks)
    group_value = _json_field(groups, "Groups")
    if group_value not in (None, [], ""):
        out["groups"] = group_value
    return out


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
        for opt in spec.options:
            value = state.options.get(opt.name, base[opt.name])
            if value == base[opt.name]:
                continue
            if opt.kind == "views":
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
