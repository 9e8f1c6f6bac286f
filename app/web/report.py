"""/report: the characterisation report on the dashboard, grouped by projection, every finding a link.

Declared in ``app.projections.catalog`` (a :class:`~app.projections.spec.PageSpec`), so the
navbar, the URL codec and "Copy as CLI command" (``analyze.py report …``) read it like any page.
The layout shows at once (navbar, notices, the shared filter bar, the actions); a callback then
fills the report from the canonical query.

Caching: the report's document (``app.report.to_json``: findings, comparisons, next steps, each
step's filters and figure sizes; no figure data) is kept in the view cache under the report's
own key, so a repeat is one cache read. Its figures are not stored twice: each is drawn by a
figure card that fetches the projection's own cached figure (``/_profile/figure/<projection>/…``
for the step's filters), the very entry the projection pages use, so a figure a page already
computed is a cache hit here and one computed here is a hit there. A first visit runs each
projection once for the findings and once for its figures (on the demo data ≈ 0.5 s each).
"""

from __future__ import annotations

import json
import logging
from typing import Any, Mapping

import dash_bootstrap_components as dbc
from dash import ClientsideFunction, Dash, Input, Output, State, ctx, dcc, get_relative_path, html, no_update

from app.engine.errors import InputError
from app.findings.base import FAILURE_MODES
from app.projections.base import safe_name
from app.projections.catalog import REPORT
from app.projections.spec import PAGES, SPECS
from app.report import build, to_json
from app.report.text import PROJECTION_TITLES, filters_text, kind_title, pairs_text, value_text, who
from app.web import components as ui
from app.web import filter_bar, ids
from app.web.cache import view_key
from app.web.commands import cli_command, display_path
from app.web.page import guarded, page_frame
from app.web.redact import redact
from app.web.routes import figure_url
from app.web.services import Services, current
from app.web.state import State as ViewState
from app.web.state import decode, defaults, encode, parse_query

log = logging.getLogger(__name__)
DOCUMENT = "report"  # the cache key's suffix for the report's document


# ---------------------------------------------------------------- the document, cached
def document(services: Services, state: ViewState) -> dict[str, Any]:
    """The report's JSON document for ``state``: from the cache, else built and offered to it.

    Raises InputError when the filters keep no eval (the page shows it as its notice).
    """
    ds = services.registry.get(state.dataset)
    key = f"{view_key(state, ds.version)}:{DOCUMENT}"
    doc = services.cache.get(key)
    if isinstance(doc, dict):
        return doc
    entry = services.registry.entry(state.dataset)
    report = build(ds, state.filters, state.truncation,
                   dataset_arg=display_path(entry.path, services.registry.root))
    doc = json.loads(json.dumps(to_json(report), default=str))
    services.cache.set(key, doc)
    return doc


def href(link: str, state: ViewState, services: Services) -> str:
    """A finding's or step's link (relative to the app's root) under this app's prefix, on this page's dataset."""
    path, _, query = link.partition("?")
    if state.dataset != services.registry.default:
        query = "&".join(q for q in (f"dataset={state.dataset}", query) if q)
    return get_relative_path(path) + (f"?{query}" if query else "")


# ---------------------------------------------------------------- pieces
def finding_item(f: Mapping[str, Any], labels: Mapping[str, str], state: ViewState, services: Services) -> html.Li:
    """One finding: kind and where, its sentence, evidence and action, and the link that shows it."""
    head = [html.Span(kind_title(f["kind"]), className="badge " + ("bg-danger" if f["kind"] in FAILURE_MODES
                                                                   else "bg-secondary")),
            html.Span(" " + who(f.get("eval_id"), labels), className="fw-semibold")]
    if f.get("base_task"):
        head.append(html.Span(f" · {f['base_task']}"))
    if f.get("view"):
        head.append(html.Span(f" · view {f['view']}", className="text-muted"))
    body: list[Any] = [html.Div(head), html.Div(f.get("text", ""))]
    if f.get("where"):
        body.append(html.Div(["where ", html.Span(pairs_text(f["where"]), className="mono")],
                             className="small text-muted"))
    if f.get("evidence"):
        body.append(html.Div(["evidence ", html.Span(pairs_text(f["evidence"]), className="mono")],
                             className="small text-muted"))
    if f.get("action"):
        body.append(html.Div(f"action: {f['action']}", className="small"))
    if f.get("link"):
        body.append(dcc.Link("show it", href=href(f["link"], state, services), className="small report-finding-link"))
    return html.Li(body, className="report-finding mb-2", **ui.data_attributes(kind=str(f["kind"])))


def _figure_cards(step: Mapping[str, Any], state: ViewState, services: Services, first: int) -> list[Any]:
    """The step's figures, each fetched from its projection's own cached view (see the module's docstring)."""
    page = step["projection"]
    if page not in SPECS:
        return []
    ds = services.registry.get(state.dataset)
    prefix = get_relative_path("/")
    split_page = SPECS[page].split is not None
    cards = []
    for offset, fig in enumerate(step.get("figures", [])):
        split = fig.get("split")
        target = ViewState(page, state.dataset, dict(step["filters"]), state.truncation, defaults(page, ds),
                           show=split if split_page else None)
        index = 0 if split_page and split is not None else offset
        name = page if split is None else f"{page}-{split}"
        title = PROJECTION_TITLES.get(page, page) + (f" · {split}" if split is not None else "")
        cards.append(ui.figure_card(REPORT, first + offset, title,
                                    figure_url(prefix, page, index, encode(target, services.registry)),
                                    int(fig["width"]), int(fig["height"]), safe_name(name, "figure")))
    return cards


def _step_card(number: int, step: Mapping[str, Any], findings: list[Mapping[str, Any]], labels: Mapping[str, str],
               state: ViewState, services: Services, first: int) -> dbc.Card:
    page = step["projection"]
    title = PROJECTION_TITLES.get(page, page)
    header = html.Div([
        html.Span(f"{number}. {step['title']}", className="fw-semibold me-2"),
        html.Span(f"({title})", className="text-muted me-3"),
        dcc.Link(f"open the {title.lower()} page", href=href(step["link"], state, services), className="small"),
    ], className="d-flex align-items-baseline flex-wrap")
    body: list[Any] = [html.P(step["purpose"], className="small mb-1"),
                       html.Div(["filters ", html.Code(filters_text(step["filters"]))], className="small mb-2")]
    if step.get("skipped"):
        body.append(dbc.Alert(f"Not drawn: {redact(step['skipped'], services)}", color="warning",
                              className="py-2 small"))
    body += _figure_cards(step, state, services, first)
    if findings:
        body.append(html.Div(f"Findings ({len(findings)})", className="fw-semibold small"))
        body.append(html.Ul([finding_item(f, labels, state, services) for f in findings], className="small ps-3"))
    elif not step.get("skipped") and page in PROJECTION_TITLES and page != "compare":
        body.append(html.Div("No finding for this step.", className="small text-muted"))
    if step.get("notes"):
        body.append(html.Div("Reading this view", className="fw-semibold small mt-2"))
        body.append(html.Ul([html.Li(n) for n in step["notes"]], className="small mb-0"))
    return dbc.Card([dbc.CardHeader(header, className="py-1"), dbc.CardBody(body, className="py-2")],
                    className="mb-3 report-step", id=ids.report_step(page))


def _glance(doc: Mapping[str, Any], labels: Mapping[str, str]) -> dbc.Card:
    failures = [f for f in doc["findings"] if f["kind"] in FAILURE_MODES]
    workflow = ("Workflow 2 · model comparison" if doc["workflow"] == "comparison"
                else "Workflow 1 · pre-deployment characterisation")
    evals = ", ".join(who(e["eval_id"], labels) for e in doc["evals"])
    items = [html.Li(f"{kind_title(f['kind'])}: {who(f.get('eval_id'), labels)}"
                     + (f" · {f['base_task']}" if f.get("base_task") else "")) for f in failures]
    return dbc.Card(dbc.CardBody([
        html.Div(workflow, className="fw-semibold"),
        html.Div(f"evals: {evals}", className="small"),
        html.Div(f"{len(doc['findings'])} finding(s), {len(failures)} failure mode(s)", className="small"),
        html.Ul(items, className="small mb-0") if items else None,
    ], className="py-2"), className="mb-3", id=ids.REPORT_GLANCE)


def _comparisons(rows: list[Mapping[str, Any]]) -> Any:
    if not rows:
        return None
    columns = list(dict.fromkeys(k for r in rows for k in r))
    table = dbc.Table([html.Thead(html.Tr([html.Th(c) for c in columns])),
                       html.Tbody([html.Tr([html.Td(value_text(r.get(c))) for c in columns]) for r in rows])],
                      size="sm", bordered=True, className="small mb-0")
    return dbc.Card([dbc.CardHeader("Comparison table", className="py-1 small fw-semibold"),
                     dbc.CardBody(html.Div(table, className="figure-scroll"), className="py-2")],
                    className="mb-3", id=ids.REPORT_COMPARISONS)


def _next_steps(steps: list[Mapping[str, Any]], state: ViewState, services: Services) -> Any:
    if not steps:
        return None
    items = [html.Li(dcc.Link(s["text"], href=href(s["link"], state, services), className="next-step"))
             for s in steps]
    return dbc.Card([dbc.CardHeader("Next steps", className="py-1 small fw-semibold"),
                     dbc.CardBody(html.Ul(items, className="small mb-0"), className="py-2")],
                    className="mb-3", id=ids.REPORT_NEXT_STEPS)


def report_children(state: ViewState, services: Services) -> list[Any]:
    """The report for ``state``: at a glance, one card per step, the comparison, next steps, notes."""
    try:
        doc = document(services, state)
    except InputError as exc:  # the filters keep no eval: the page's notice, the CLI's exit 2
        return [ui.empty_state(redact(str(exc), services))]
    labels = {e["eval_id"]: e["label"] for e in doc["evals"]}
    out: list[Any] = [_glance(doc, labels)]
    first = 0
    for number, step in enumerate(doc["steps"], 1):
        mine = [f for f in doc["findings"] if f["projection"] == step["projection"]]
        out.append(_step_card(number, step, mine, labels, state, services, first))
        first += len(step.get("figures", []))
    out.append(_comparisons(doc["comparisons"]))
    out.append(_next_steps(doc["next_steps"], state, services))
    if doc["notes"]:
        out.append(dbc.Alert(html.Ul([html.Li(n) for n in doc["notes"]], className="mb-0"), color="secondary",
                             className="py-2 small"))
    return out


# ---------------------------------------------------------------- layout
@guarded
def report_layout(query: Mapping[str, Any]) -> Any:
    """The whole /report page for ``query``: what was ignored, the filter bar and actions, then the report."""
    services = current()
    decoded = decode(REPORT, query, services.registry)
    state = decoded.state
    registry = services.registry
    spec = PAGES[REPORT]
    return page_frame(REPORT, spec.title, spec.summary, decoded, registry, [
        ui.actions(cli_command(state, registry.entry(state.dataset).path, registry.root), None),
        dcc.Store(id=ids.REPORT_QUERY, data={"page": REPORT, "search": encode(state, registry)}),
        html.Span(id=ids.REPORT_CANONICAL_URL, hidden=True),
        dcc.Loading(html.Div(id=ids.REPORT_AREA, className="report-area"), type="default",
                    delay_show=ui.SPINNER_DELAY_MS, id=ids.REPORT_LOADING),
    ])


def layout(**query: Any) -> Any:
    """/report: the layout Dash Pages calls with the URL's query parameters."""
    return report_layout(query)


# ---------------------------------------------------------------- callbacks
def register(app: Dash) -> None:
    """The report's callbacks: filter bar → URL, the report, and the canonical URL in the address bar."""

    @app.callback(
        # the Location's href, not its search: see app.web.callbacks._href
        Output(ids.LOCATION, "href", allow_duplicate=True), Output(ids.FB_ERROR, "children", allow_duplicate=True),
        *filter_bar.INPUTS, State(ids.REPORT_QUERY, "data", allow_optional=True), prevent_initial_call=True,
    )
    def report_filters_to_url(evals, tasks, groups, other, current_view):
        """Check the bar with the URL's own codec; navigate only to a valid state, else say what is wrong."""
        if len(ctx.triggered) > 1 or not isinstance(current_view, dict) or current_view.get("page") != REPORT:
            return no_update, no_update  # just drawn, or not the report page
        services = current()
        try:
            filters = filter_bar.bar_filters(evals, tasks, groups, other)
        except InputError as exc:
            return no_update, str(exc)
        base = parse_query(current_view.get("search"))
        query: dict[str, Any] = {k: v for k, v in base.items() if k == "dataset"}
        if filters:
            query["filters"] = json.dumps(filters, ensure_ascii=False)
        decoded = decode(REPORT, query, services.registry)
        if decoded.notices:
            return no_update, " ".join(n.replace("The filter", "Filter") for n in decoded.notices)
        search = encode(decoded.state, services.registry)
        if search == current_view.get("search"):
            return no_update, ""
        return get_relative_path(PAGES[REPORT].path) + search, ""

    @app.callback(Output(ids.REPORT_AREA, "children"), Input(ids.REPORT_QUERY, "data"))
    def render_report(data):
        """The canonical query → the report (its document cached, its figures fetched from their views)."""
        services = current()
        search = data.get("search") if isinstance(data, dict) else None
        state = decode(REPORT, parse_query(search), services.registry).state
        try:
            return ui.bounded(report_children(state, services))
        except Exception:  # a bug, not bad input: say so without a traceback, keep it in the log
            log.exception("report failed for %s", data)
            return html.Div("Internal error while building this report; the server log has the details.",
                            className="alert alert-danger", id=ids.INTERNAL_ERROR)

    app.clientside_callback(
        ClientsideFunction("profile", "canonicalUrl"),
        Output(ids.REPORT_CANONICAL_URL, "children"),
        Input(ids.REPORT_QUERY, "data"),
    )
