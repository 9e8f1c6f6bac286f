"""/probe: what the model wrote. The completions behind any mark, each text shown as plain characters.

The page is declared in ``app.projections.catalog`` (a :class:`~app.projections.spec.PageSpec`), so
the navbar, the URL codec and "Copy as CLI command" read it like a projection page. Dash Pages
calls :func:`probe_layout` with the URL's query: navbar, notices, the shared filter bar, the
probe's own controls (outcomes, token range, rows per page) and the actions; a callback then lists
the completions from the canonical query (:func:`listing`), so the shell shows at once and a
spinner while the texts are read. The URL is the only state: a control writes the URL, the pager
and the "open only this one" links are plain links.

Texts are inert: each is the one string child of an ``html.Pre``, which React writes as a text
node, so markup, scripts and Markdown in a completion are characters on screen, never elements.
Nothing here uses ``dcc.Markdown`` or ``dangerouslySetInnerHTML``. A text longer than
``bounds.PROBE_PREVIEW_CHARS`` shows its beginning and an ``html.Details`` opens the whole of it
(no callback) up to ``bounds.PROBE_TEXT_MAX_CHARS``; past that a line says how many characters are
left out and how to get every one (``analyze.py probe --format jsonl``).
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass, replace
from typing import Any, Mapping, Sequence

import dash_bootstrap_components as dbc
import pandas as pd
from dash import ClientsideFunction, Dash, Input, Output, State, ctx, dcc, get_relative_path, html, no_update

from app import bounds
from app.engine import Dataset
from app.engine.errors import InputError
from app.engine.schema import OUTCOMES
from app.figures import palette
from app.figures.common import axis_label
from app.projections.catalog import PROBE
from app.projections.spec import PAGES
from app.web import components as ui
from app.web import filter_bar, ids
from app.web.commands import cli_command
from app.web.page import guarded, page_frame
from app.web.services import Services, current
from app.web.state import State as ViewState
from app.web.state import decode, encode, parse_query

log = logging.getLogger(__name__)
COLUMNS = ("#", "Eval", "Task", "Params", "Outcome", "Tokens", "Compressed", "Ratio", "Loop")
COLUMN_HINTS = {
    "#": "the completion's row key; the link opens only this completion (a link to share)",
    "Compressed": "gzip-compressed bytes of the text (level 9), the compression figure's y",
    "Ratio": "compressed bytes ÷ UTF-8 bytes of the text: a broken loop compresses far below prose "
             "(< 0.05 against about 0.3–0.5); very short texts sit near 1",
    "Loop": "the longest repeated tail: its period in characters and the share of the text it covers "
            "(– when no block repeats at least 4 times over 10% of the text)",
}


# ---------------------------------------------------------------- what the page asks the engine
@dataclass
class Listing:
    """One page of completions, how many match in all, and why the texts are missing if they are."""

    frame: pd.DataFrame
    total: int
    has_text: bool
    text_error: str | None = None


def engine_options(state: ViewState) -> dict[str, Any]:
    """The probe state's options as ``Dataset.completions`` keywords (outcomes, tokens, rows, limit, offset)."""
    options = state.options
    return {"outcomes": list(options["outcome"]) or None, "tokens": options["tokens"],
            "rows": list(options["row"]) or None, "limit": options["limit"], "offset": options["offset"]}


def fetch(ds: Dataset, state: ViewState) -> Listing:
    """One page of completions; a texts file that cannot be read still lists the rows, and says why."""
    options = engine_options(state)
    if not ds.has_text:
        frame = ds.completions(state.filters, text=False, **options)
        return Listing(frame, int(frame.attrs["total"]), has_text=False)
    try:
        frame = ds.completions(state.filters, text=True, **options)
    except InputError as exc:  # the texts file is missing, replaced or corrupt: the numbers are still good
        frame = ds.completions(state.filters, text=False, **options)
        return Listing(frame, int(frame.attrs["total"]), has_text=True, text_error=str(exc))
    return Listing(frame, int(frame.attrs["total"]), has_text=True)


# ---------------------------------------------------------------- cells
def _missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def _count(value: Any) -> str:
    """A count as the table shows it (1,234); missing as '–'."""
    return "–" if _missing(value) else f"{int(value):,}"


def _ratio(value: Any) -> str:
    """A compression ratio to 3 significant digits (a loop's 0.00207 stays readable); missing as '–'."""
    return "–" if _missing(value) else f"{float(value):.3g}"


def params_text(params: Mapping[str, Any]) -> str:
    """``a=1, b=2`` (sorted keys), or '–' for a point without params."""
    return ", ".join(f"{k}={axis_label(v)}" for k, v in sorted(params.items())) or "–"


def loop_text(period: Any, share: Any) -> str:
    """'period 12 · 85%' for a repeated tail, '–' for none."""
    if period is None or period is pd.NA or share is None:
        return "–"
    return f"period {int(period):,} · {float(share):.0%}"


def outcome_badge(outcome: str) -> html.Span:
    """The outcome in the palette's colour (the same as on every figure)."""
    color = palette.OUTCOME_COLORS.get(outcome, palette.NEUTRAL)
    return html.Span(outcome, className="badge probe-outcome", style={"backgroundColor": color})


def text_block(text: str | None, has_text: bool) -> list[Any]:
    """What the model wrote, inert: a ``Pre`` with the text as its only child (escaped by React).

    ``.probe-text`` always holds the whole text up to ``PROBE_TEXT_MAX_CHARS``; a text longer
    than ``PROBE_PREVIEW_CHARS`` shows a ``.probe-preview`` of its beginning and keeps the
    whole in a closed ``Details``.
    """
    if text is None:
        return [html.Span("no text stored for this completion" if has_text else "", className="text-muted small")]
    n = len(text)
    if n == 0:
        return [html.Pre("", className="probe-text"), html.Span("(the completion is empty)",
                                                                 className="text-muted small")]
    if n <= bounds.PROBE_PREVIEW_CHARS:
        return [html.Pre(text, className="probe-text")]
    whole: list[Any] = [html.Pre(text[:bounds.PROBE_TEXT_MAX_CHARS], className="probe-text probe-whole")]
    if n > bounds.PROBE_TEXT_MAX_CHARS:
        whole.append(html.Div(
            f"The last {n - bounds.PROBE_TEXT_MAX_CHARS:,} of {n:,} characters are not shown here; "
            "`analyze.py probe … --format jsonl` writes every character.", className="text-muted small"))
    more = f"show all {n:,} characters" if n <= bounds.PROBE_TEXT_MAX_CHARS else \
        f"show the first {bounds.PROBE_TEXT_MAX_CHARS:,} of {n:,} characters"
    return [html.Pre(text[:bounds.PROBE_PREVIEW_CHARS], className="probe-preview"),
            html.Details([html.Summary(more, className="small"), *whole], className="probe-more")]


def _href(state: ViewState, services: Services, **options: Any) -> str:
    target = replace(state, options={**state.options, **options})
    return get_relative_path(f"/{PROBE}") + encode(target, services.registry)


def _completion(row: Any, state: ViewState, services: Services, has_text: bool) -> html.Tbody:
    """One completion: its numbers on one table row, its text on the next."""
    key = int(row.row)
    cells = [
        dcc.Link(str(key), href=_href(state, services, row=(key,), offset=0), title=COLUMN_HINTS["#"]),
        html.Span(row.label, title=row.eval_id),
        row.base_task,
        html.Span(params_text(row.params), className="mono small"),
        outcome_badge(row.outcome),
        _count(row.completion_tokens),
        _count(row.compressed_bytes),
        _ratio(row.compression_ratio),
        loop_text(row.loop_period, row.loop_share),
    ]
    numeric = {5, 6, 7}
    rows = [html.Tr([html.Td(c, className="text-end" if i in numeric else None) for i, c in enumerate(cells)],
                    className="probe-numbers")]
    if has_text:  # a dataset without texts (or whose texts cannot be read) lists the numbers only
        rows.append(html.Tr(html.Td(text_block(row.text, has_text), colSpan=len(COLUMNS),
                                    className="probe-text-cell"), className="probe-text-row"))
    return html.Tbody(rows, id=ids.completion(key), className="probe-completion", **ui.data_attributes(row=str(key)))


def _header(ds: Dataset) -> html.Thead:
    names = [f"{c} (estimated)" if c == "Tokens" and ds.meta.tokens_estimated else c for c in COLUMNS]
    return html.Thead(html.Tr([html.Th(n, title=COLUMN_HINTS.get(c), className="text-end" if c in
                                       ("Tokens", "Compressed", "Ratio") else None)
                               for n, c in zip(names, COLUMNS)]))


def _pager(state: ViewState, services: Services, total: int, shown: int) -> html.Div:
    """'Completions 51–100 of 1,234' with links to the previous and next pages."""
    offset, limit = state.options["offset"], state.options["limit"]
    if shown:
        where = f"Completions {offset + 1:,}–{offset + shown:,} of {total:,} that match"
    else:
        where = f"No completion on this page (from {offset + 1:,}); {total:,} match in all"
    links: list[Any] = []
    if offset > 0:
        back = max(0, min(offset - limit, max(total - limit, 0)))
        links.append(dcc.Link(f"← previous {limit}", href=_href(state, services, offset=back), id=ids.PROBE_PREV,
                              className="me-3"))
    if offset + limit < total:
        links.append(dcc.Link(f"next {min(limit, total - offset - limit)} →",
                              href=_href(state, services, offset=offset + limit), id=ids.PROBE_NEXT))
    return html.Div([html.Span(where, id=ids.PROBE_COUNT, className="fw-semibold me-3"), *links],
                    className="d-flex align-items-baseline flex-wrap mb-2 small")


def listing(state: ViewState, services: Services) -> list[Any]:
    """The page's listing: notes on text, the opened completion, the pager and the table."""
    ds = services.registry.get(state.dataset)
    try:
        found = fetch(ds, state)
    except InputError as exc:  # a state that decode accepted but the engine refuses: say so, show nothing
        return [ui.empty_state(str(exc))]
    out: list[Any] = []
    if not found.has_text:
        out.append(dbc.Alert(
            "This dataset keeps no completion text (its source had none, or it was imported without it): the "
            "completions are listed with their numbers only. Import results that include the text (for example "
            "the samples format's \"text\" field) to read what the model wrote.", color="secondary",
            className="py-2 small", id=ids.PROBE_NO_TEXT))
    if found.text_error:
        out.append(dbc.Alert(f"The completion texts could not be read: {found.text_error}. The completions are "
                             "listed with their numbers only.", color="warning", className="py-2 small",
                             id=ids.PROBE_TEXT_ERROR))
    if state.options["row"]:
        keys = ", ".join(str(r) for r in state.options["row"])
        out.append(dbc.Alert([
            html.Span(f"Showing the completion{'s' if len(state.options['row']) > 1 else ''} you opened (row "
                      f"{keys}). "),
            dcc.Link("List every completion that matches the filters, outcomes and token range above",
                     href=_href(state, services, row=(), offset=0), id=ids.PROBE_SHOW_ALL),
        ], color="info", className="py-2 small", id=ids.PROBE_OPENED))
    if found.total == 0:
        out.append(ui.empty_state("No completion matches these filters, outcomes and token range."))
        return out
    frame = found.frame
    out.append(_pager(state, services, found.total, len(frame)))
    if len(frame):
        body = [_completion(r, state, services, found.has_text and not found.text_error)
                for r in frame.itertuples(index=False)]
        out.append(html.Div(html.Table([_header(ds), *body], className="table table-sm probe-table mb-2",
                                       id=ids.PROBE_TABLE), className="probe-scroll"))
    return out


# ---------------------------------------------------------------- layout
def _controls(state: ViewState) -> dbc.Row:
    """Outcomes, token range [MIN, MAX) and rows per page; each change writes the URL."""
    tokens = state.options["tokens"]
    low, high = (tokens if tokens else (None, None))
    outcome_options = [{"label": html.Span(o, className="probe-outcome-choice",
                                           style={"borderBottom": f"3px solid {palette.OUTCOME_COLORS[o]}"}),
                        "value": o} for o in OUTCOMES]
    hint = "completion tokens from MIN up to but not including MAX (the CLI's --tokens MIN MAX); empty = any"
    return dbc.Row([
        dbc.Col([ui.field_label("Outcomes", ids.PROBE_OUTCOME, "only completions that ended so; none ticked = all"),
                 dbc.Checklist(id=ids.PROBE_OUTCOME, options=outcome_options, value=list(state.options["outcome"]),
                               inline=True, className="small pt-1")], width="auto"),
        dbc.Col([ui.field_label("Tokens [MIN, MAX)", ids.PROBE_TOKENS_MIN, hint),
                 html.Div([dbc.Input(id=ids.PROBE_TOKENS_MIN, type="number", value=low, min=0, step=1, debounce=True,
                                     size="sm", placeholder="MIN", style={"width": "7rem"}),
                           html.Span("to", className="mx-1 small text-muted"),
                           dbc.Input(id=ids.PROBE_TOKENS_MAX, type="number", value=high, min=1, step=1,
                                     debounce=True, size="sm", placeholder="MAX", style={"width": "7rem"})],
                          className="d-flex align-items-center")], width="auto"),
        dbc.Col([ui.field_label("Per page", ids.PROBE_LIMIT, f"completions listed per page (1 to "
                                f"{bounds.PROBE_LIMIT_MAX}; the CLI's --limit)"),
                 dbc.Input(id=ids.PROBE_LIMIT, type="number", value=state.options["limit"], min=1,
                           max=bounds.PROBE_LIMIT_MAX, step=1, debounce=True, size="sm", style={"width": "6rem"})],
                width="auto"),
    ], className="g-3 mb-2 align-items-end options-row")


@guarded
def probe_layout(query: Mapping[str, Any]) -> Any:
    """The whole /probe page for ``query``: what was ignored, the filter bar and controls, then the listing."""
    services = current()
    decoded = decode(PROBE, query, services.registry)
    state = decoded.state
    registry = services.registry
    search = encode(state, registry)
    spec = PAGES[PROBE]
    return page_frame(PROBE, spec.title, spec.summary, decoded, registry, [
        _controls(state),
        ui.actions(cli_command(state, registry.entry(state.dataset).path, registry.root), None),
        dcc.Store(id=ids.PROBE_QUERY, data={"page": PROBE, "search": search}),
        html.Span(id=ids.PROBE_CANONICAL_URL, hidden=True),
        dcc.Loading(html.Div(id=ids.PROBE_AREA, className="probe-area"), type="default",
                    delay_show=ui.SPINNER_DELAY_MS, id=ids.PROBE_LOADING),
    ])


def layout(**query: Any) -> Any:
    """/probe: the layout Dash Pages calls with the URL's query parameters."""
    return probe_layout(query)


# ---------------------------------------------------------------- callbacks
def controls_query(base: Mapping[str, Any], filters: Mapping[str, Any], outcomes: Sequence[str] | None,
                   low: Any, high: Any, limit: Any) -> dict[str, Any]:
    """The controls as a query (the same form as a link) for :func:`~app.web.state.decode` to check.

    A new selection starts from its first page and lists every match (paging and an opened
    completion are dropped). One end of the token range left empty means 0 or no upper end.
    """
    query: dict[str, Any] = {}
    if "dataset" in base:
        query["dataset"] = base["dataset"]
    if filters:
        query["filters"] = json.dumps(dict(filters), ensure_ascii=False)
    if outcomes:
        query["outcome"] = [str(o) for o in outcomes]
    if low not in (None, "") or high not in (None, ""):
        query["tokens"] = f"{_whole(low, 0)},{_whole(high, bounds.PROBE_TOKENS_MAX)}"
    if limit not in (None, ""):
        query["limit"] = _whole(limit, bounds.PROBE_LIMIT_DEFAULT)
    return query


def _whole(value: Any, empty: int) -> str:
    """A number input's value as the URL writes it (an empty field is ``empty``; 12.0 → '12')."""
    if value in (None, ""):
        return str(empty)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def register(app: Dash) -> None:
    """The probe's callbacks: controls → URL, the listing, and the canonical URL in the address bar."""

    @app.callback(
        # the Location's href, not its search: see app.web.callbacks._href
        Output(ids.LOCATION, "href", allow_duplicate=True), Output(ids.FB_ERROR, "children", allow_duplicate=True),
        # optional: the projection pages have the filter bar but not these (their own callback writes their URL)
        *filter_bar.INPUTS, Input(ids.PROBE_OUTCOME, "value", allow_optional=True),
        Input(ids.PROBE_TOKENS_MIN, "value", allow_optional=True),
        Input(ids.PROBE_TOKENS_MAX, "value", allow_optional=True),
        Input(ids.PROBE_LIMIT, "value", allow_optional=True), State(ids.PROBE_QUERY, "data", allow_optional=True),
        prevent_initial_call=True,
    )
    def probe_controls_to_url(evals, tasks, groups, other, outcomes, low, high, limit, current_view):
        """Check the controls with the URL's own codec; navigate only to a valid state, else say what is wrong."""
        if len(ctx.triggered) > 1 or not current_view:  # just drawn, or not the probe page: nothing to write
            return no_update, no_update
        services = current()
        try:
            filters = filter_bar.bar_filters(evals, tasks, groups, other)
        except InputError as exc:
            return no_update, str(exc)
        query = controls_query(parse_query(current_view["search"]), filters, outcomes, low, high, limit)
        decoded = decode(PROBE, query, services.registry)
        if decoded.notices:
            return no_update, " ".join(n.replace("The filter", "Filter") for n in decoded.notices)
        search = encode(decoded.state, services.registry)
        if search == current_view["search"]:
            return no_update, ""
        return get_relative_path(PAGES[PROBE].path) + search, ""

    @app.callback(Output(ids.PROBE_AREA, "children"), Input(ids.PROBE_QUERY, "data"))
    def render_probe(data):
        """The canonical query → one page of completions (texts read for that page only)."""
        services = current()
        state = decode(PROBE, parse_query(data["search"]), services.registry).state
        try:
            return listing(state, services)
        except Exception:  # a bug, not bad input: say so without a traceback, keep it in the log
            log.exception("probe listing failed for %s", data)
            return html.Div("Internal error while listing these completions; the server log has the details.",
                            className="alert alert-danger", id=ids.INTERNAL_ERROR)

    app.clientside_callback(
        ClientsideFunction("profile", "canonicalUrl"),
        Output(ids.PROBE_CANONICAL_URL, "children"),
        Input(ids.PROBE_QUERY, "data"),
    )
