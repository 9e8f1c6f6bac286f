"""URL state codec: query string ⇄ the one canonical state of a page.

Every control of a page lives in the query string. ``decode`` never fails: a bad
or stale parameter (unknown eval, malformed filters, a dimension this dataset
lacks) becomes a notice saying what was ignored and what is shown instead, and
the state falls back to the nearest valid view. ``encode`` writes only values
that differ from the page's defaults, so decode(encode(s)) == s. Whatever a link
holds (megabytes, lone surrogates, thousands of parameters), ``decode`` reads a
bounded part of it (:func:`bounded_query`) and quotes the rest in notices of at
most ``bounds.MAX_TEXT_CHARS`` characters.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from typing import Any, Mapping
from urllib.parse import parse_qs, quote, urlencode

from app import bounds
from app.engine import Dataset
from app.engine import filters as flt
from app.engine.bounded_json import is_text
from app.engine.bounded_json import shown as echo
from app.engine.errors import InputError, listing
from app.engine.stats import check_truncation
from app.projections.base import EVAL_FILTER_KEYS, NONE
from app.projections.spec import SPECS, Option, OptionKind, PageSpec, declared
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


def linkable(value: str) -> bool:
    """Whether ``value`` fits in a link (see :func:`bounded_query`): a longer view name cannot be chosen by URL."""
    return len(value) <= bounds.MAX_PARAM_CHARS and is_text(value)


def clip(text: str, limit: int | None = None) -> str:
    """``text`` cut to ``limit`` (default app.bounds.MAX_TEXT_CHARS) characters with "…": what a page shows."""
    limit = bounds.MAX_TEXT_CHARS if limit is None else limit
    return text if len(text) <= limit else text[: limit - 1] + "…"


def value_text(value: Any) -> str:
    """A dimension value as the URL writes it (8.0 → '8')."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _jsonable(options: Mapping[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in options.items()}


def parse_query(search: Any) -> dict[str, QueryValue]:
    """'?a=1&b=2&b=3' → {'a': '1', 'b': ['2', '3']} (the shape Dash Pages passes to layouts).

    Anything but a string (a forged callback value) is an empty query; the bounds are :func:`decode`'s.
    """
    text = (search if isinstance(search, str) else "").lstrip("?")
    parsed = parse_qs(text, keep_blank_values=True)
    return {k: v[0] if len(v) == 1 else v for k, v in parsed.items()}


def _single(query: Mapping[str, QueryValue], key: str, notices: list[str]) -> str | None:
    value = query.get(key)
    if isinstance(value, list):
        notices.append(f"'{key}' was given {len(value)} times; using the first ({echo(value[0])}).")
        return value[0]
    return value


def bounded_query(query: Mapping[Any, Any], notices: list[str]) -> dict[str, QueryValue]:
    """The parameters of ``query`` a link may hold (app.bounds), in order; a notice for each kind left out.

    Rules: names and values are text that encodes as UTF-8 (no lone surrogate); one value holds at
    most MAX_PARAM_CHARS characters (else the parameter is ignored); parameters are read in order
    until MAX_QUERY_PARAMS values (a repeated key counts each time) or MAX_QUERY_CHARS characters
    are read, and the rest are ignored. So whatever a link holds, decoding reads a bounded amount.
    """
    kept: dict[str, QueryValue] = {}
    params = chars = broken = 0
    too_long: list[str] = []
    past: list[str] = []
    for key, raw in query.items():
        values = raw if isinstance(raw, list) else [raw]
        if not (isinstance(key, str) and is_text(key) and all(isinstance(v, str) and is_text(v) for v in values)):
            broken += 1
            continue
        longest = max((len(v) for v in values), default=0)
        if longest > bounds.MAX_PARAM_CHARS:
            too_long.append(f"{echo(key)} ({longest:,} characters)")
            continue
        size = len(key) + sum(len(v) for v in values)
        if params + len(values) > bounds.MAX_QUERY_PARAMS or chars + size > bounds.MAX_QUERY_CHARS:
            past.append(echo(key))
            continue
        params, chars = params + len(values), chars + size
        kept[key] = raw
    if broken:
        notices.append(f"{broken} parameter(s) holding text that is not valid Unicode (such as the lone surrogate "
                       "escape \\ud800) were ignored.")
    if too_long:
        notices.append(f"Parameter(s) {listing(too_long, 6)} were ignored: a value holds at most "
                       f"{bounds.MAX_PARAM_CHARS:,} characters.")
    if past:
        notices.append(f"A link holds at most {bounds.MAX_QUERY_PARAMS} parameter values and "
                       f"{bounds.MAX_QUERY_CHARS:,} characters; these were ignored: {listing(past, 6)}.")
    return kept


def _as_list(value: QueryValue | None) -> list[str]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def uses_truncation(page: str) -> bool:
    """Whether ``truncation`` is a parameter of ``page`` (every page but those declared as a PageSpec)."""
    return not isinstance(declared(page), PageSpec)


def defaults(page: str, ds: Dataset) -> dict[str, Any]:
    """The page's options when the URL says nothing."""
    spec = declared(page)
    return {o.name: o.page_value(ds) for o in spec.page_options} if spec else {}


def _check_option(opt: Option, raw: QueryValue, ds: Dataset) -> tuple[Any, str | None]:
    """(valid value, None) or (None, why it is not valid)."""
    if opt.kind in (OptionKind.CHOICES, OptionKind.ROWS, OptionKind.INT_RANGE):
        return _check_list_option(opt, raw, ds)
    if opt.kind is OptionKind.VIEWS:
        names = set(ds.views()["name"])
        wanted = [v for v in dict.fromkeys(_as_list(raw)) if v != ""]
        unknown = [echo(v) for v in wanted if v not in names]
        keep = tuple(v for v in wanted if v in names)
        if unknown:
            return keep, (f"unknown view(s) {listing(unknown, 6)} for dataset {echo(ds.name)}; "
                          f"views: {listing(sorted(names))}")
        return keep, None
    if isinstance(raw, list):
        raw = raw[0]
    if opt.kind is OptionKind.CHOICE:
        if raw in opt.choices:
            return raw, None
        return None, f"must be one of {', '.join(opt.choices)}"
    if opt.kind is OptionKind.INT:
        text = raw.strip()
        if WHOLE.fullmatch(text) and opt.in_bounds(int(text)):
            return int(text), None
        return None, f"must be {opt.bounds_text()}, not {echo(raw)}"
    if opt.kind is OptionKind.DIM_OR_NONE and raw == NONE:
        return NONE, None
    allowed = [d for d in ds.dimension_names if d not in opt.exclude]
    if raw in allowed:
        return raw, None
    what = "not allowed here" if raw in ds.dimension_names else f"not a dimension of dataset {echo(ds.name)}"
    extra = ", or none" if opt.kind is OptionKind.DIM_OR_NONE else ""
    return None, f"{echo(raw)} is {what}; valid: {listing(allowed, 40)}{extra}"


WHOLE = re.compile(r"[0-9]{1,19}")  # ASCII digits only: int() also takes '²' or '١', which no link means


def _check_list_option(opt: Option, raw: QueryValue, ds: Dataset) -> tuple[Any, str | None]:
    """Outcomes (any of the choices), a token range MIN,MAX, or row keys of ``ds``: what is valid, and why not."""
    if opt.kind is OptionKind.INT_RANGE:
        text = (raw[0] if isinstance(raw, list) else raw).strip()
        if text == "":
            return None, None
        parts = [p.strip() for p in text.split(",")]
        top = opt.maximum if opt.maximum is not None else bounds.PROBE_TOKENS_MAX
        if len(parts) != 2 or not all(WHOLE.fullmatch(p) for p in parts):
            return None, f"must be two whole numbers MIN,MAX (e.g. 0,512), not {text!r}"
        low, high = int(parts[0]), int(parts[1])
        if not (opt.minimum <= low and high <= top):
            return None, f"must lie from {opt.minimum:,} to {top:,}, not {low:,},{high:,}"
        if low >= high:
            return None, f"MIN must be less than MAX (MIN counts, MAX does not), not {low:,},{high:,}"
        return (low, high), None
    wanted = [v.strip() for v in dict.fromkeys(_as_list(raw)) if v.strip() != ""]
    if opt.kind is OptionKind.CHOICES:
        keep = tuple(c for c in opt.choices if c in wanted)
        unknown = [v for v in wanted if v not in opt.choices]
        return keep, (f"unknown value(s) {listing(unknown)}; valid: {', '.join(opt.choices)}" if unknown else None)
    rows = sorted({int(v) for v in wanted if WHOLE.fullmatch(v) and int(v) < ds.row_key_limit})
    bad = [v for v in wanted if not (WHOLE.fullmatch(v) and int(v) < ds.row_key_limit)]
    if len(rows) > bounds.PROBE_LIMIT_MAX:
        return tuple(rows[:bounds.PROBE_LIMIT_MAX]), f"at most {bounds.PROBE_LIMIT_MAX} completions open at once"
    if bad:
        return tuple(rows), (f"{listing(bad)} {'is' if len(bad) == 1 else 'are'} not a completion of dataset "
                             f"{ds.name!r} (row keys are whole numbers from 0 to {ds.row_key_limit - 1:,})")
    return tuple(rows), None


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

    64 heatmap columns (or scatter rows, or curves) are unreadable and slow to draw; a page that
    compares evals (``opens_on_evals``) opens on that many. The cap is written into the filters
    (and so into the link and the CLI line), never silent.
    """
    spec = SPECS.get(page)
    mark = spec.per_eval_mark if spec else None
    compares = spec.opens_on_evals if spec else None
    cap = compares or bounds.MAX_GRID_EVALS
    chooses_evals = any(k in EVAL_FILTER_KEYS or k.startswith("groups.") for k in filters)
    evals = ds.evals()["eval_id"].tolist()
    if (mark is None and compares is None) or chooses_evals or len(evals) <= cap:
        return filters
    if compares:
        info.append(f"This dataset has {len(evals)} evals and the {page} page compares the evals you choose, so it "
                    f"opened on the first {cap} (by label). Choose evals in the filter bar to compare others.")
    else:
        info.append(f"This dataset has {len(evals)} evals and the {page} page draws one {mark} per eval, so it "
                    f"opened on the first {cap} (by label). Choose evals in the filter bar to see others.")
    return flt.parse_filters({**filters, "eval_id": evals[:cap]})


def decode(page: str, query: Mapping[str, QueryValue], registry: Registry) -> Decoded:
    """The valid state closest to what the query asks for, with a notice per thing ignored."""
    notices: list[str] = []
    query = bounded_query(query, notices)
    spec = declared(page)
    known = ({p for p in COMMON_PARAMS if p != "truncation" or uses_truncation(page)}
             | ({o.name for o in spec.page_options} if spec else set()))
    if spec and spec.split:
        known.add(SHOW)
    unknown = [echo(key) for key in query if key not in known]
    if unknown:
        notices.append(f"Unknown parameter {unknown[0]} was ignored." if len(unknown) == 1 else
                       f"Unknown parameters {listing(unknown, 6)} were ignored.")

    name = _single(query, "dataset", notices)
    if name is not None and name not in registry.names:
        notices.append(f"Unknown dataset {echo(name)}; showing {registry.default!r}. "
                       f"Datasets: {listing(registry.names)}.")
        name = None
    entry = registry.entry(name)
    ds = registry.get(entry.name)

    raw_filters = _single(query, "filters", notices)
    filters, filter_notices = check_filters(raw_filters, ds) if raw_filters not in (None, "") else ({}, [])
    notices += filter_notices
    info: list[str] = []
    filters = _cap_grid_evals(page, filters, ds, info)

    truncation = (_single(query, "truncation", notices) if "truncation" in known else None) or "failure"
    try:
        truncation = check_truncation(truncation)
    except InputError:
        notices.append(f"truncation must be failure or separate, not {echo(truncation)}; showing failure.")
        truncation = "failure"

    options = defaults(page, ds)
    for opt in spec.page_options if spec else ():
        if opt.name not in query:
            continue
        raw = query[opt.name]
        if not opt.multiple and isinstance(raw, list):
            notices.append(f"'{opt.name}' was given {len(raw)} times; using the first ({echo(raw[0])}).")
        value, problem = _check_option(opt, raw, ds)
        if problem:
            shown = "every view" if opt.kind is OptionKind.VIEWS and not value else options[opt.name]
            if opt.multiple and value:
                shown = listing(value)
            elif shown is None or shown == ():
                shown = "all"
            notices.append(f"{opt.label} ({opt.name}) {problem}; showing {shown}.")
        if value is not None:
            options[opt.name] = value
    state = State(page, entry.name, filters, truncation, options)
    raw_show = _single(query, SHOW, notices) if SHOW in known else None
    if raw_show not in (None, ""):
        if state.split is None:
            notices.append(f"show={echo(raw_show)} was ignored: this view is not split.")
        else:
            values = {value_text(v): v for v in ds.dimension(state.split).values if v is not None}
            if raw_show in values:
                state = replace(state, show=values[raw_show])
            else:
                notices.append(f"show={echo(raw_show)} is not a value of {state.split}; showing the first one.")
    return Decoded(state, [clip(n) for n in notices], [clip(n) for n in info])


def encode(state: State, registry: Registry) -> str:
    """'?…' with the values that differ from the defaults ('' when none do)."""
    pairs: list[tuple[str, str]] = []
    if state.dataset != registry.default:
        pairs.append(("dataset", state.dataset))
    if state.filters:
        pairs.append(("filters", flt.canonical_json(state.filters)))
    if state.truncation != "failure" and uses_truncation(state.page):
        pairs.append(("truncation", state.truncation))
    spec = declared(state.page)
    if spec:
        base = defaults(state.page, registry.get(state.dataset))
        for opt in spec.page_options:
            value = state.options.get(opt.name, base[opt.name])
            if value == base[opt.name]:
                continue
            if opt.multiple:
                pairs += [(opt.name, str(v)) for v in value]
            elif opt.kind is OptionKind.INT_RANGE:
                pairs.append((opt.name, f"{value[0]},{value[1]}"))
            else:
                pairs.append((opt.name, str(value)))
    if state.show is not None:
        pairs.append((SHOW, value_text(state.show)))
    if not pairs:
        return ""
    return "?" + urlencode(pairs, quote_via=quote, safe="!$'()*,:@/")


def carry(state: State, page: str, registry: Registry, overrides: Mapping[str, Any] | None = None,
          options: Mapping[str, Any] | None = None) -> str:
    """Query for another page keeping dataset, filters and truncation (its own options default).

    ``overrides`` replaces filter keys (None removes one): the drill-down's eval and task.
    ``options`` sets some of the target page's options (the probe's outcome and token range).
    """
    filters = dict(state.filters)
    for key, value in (overrides or {}).items():
        if value is None:
            filters.pop(key, None)
        else:
            filters[key] = value
    target = State(page, state.dataset, flt.parse_filters(filters), state.truncation,
                   {**defaults(page, registry.get(state.dataset)), **(options or {})})
    return encode(target, registry)
