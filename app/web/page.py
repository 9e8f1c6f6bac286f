"""The shape every projection page shares: URL → state → controls, and state → view.

``projection_layout`` runs when the URL changes (Dash Pages calls the page's
layout with the query); ``view_children`` runs in the one render callback and
turns a cached view summary into figure cards, notes and next steps.
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Mapping

import dash_bootstrap_components as dbc
from dash import dcc, get_relative_path, html

from app.engine.errors import InputError
from app.findings import groups
from app.findings.base import Finding
from app.projections.base import safe_name
from app.projections.spec import SPECS
from app.web import components as ui
from app.web import compute, filter_bar, ids
from app.web.commands import cli_command
from app.web.compute import View, ViewStatus, ViewSummary
from app.web.next_steps import next_steps
from app.web.redact import redact
from app.web.routes import figure_url, table_url
from app.web.services import Services, current
from app.web.state import State, decode, encode

log = logging.getLogger(__name__)


def no_data(message: str) -> html.Div:
    """Shown instead of any page when no dataset can be opened."""
    return dbc.Container(dbc.Alert([html.H4("No dataset to show"), html.P(message)], color="danger"),
                         className="mt-4")


def guarded(build: Callable[..., Any]) -> Callable[..., Any]:
    """A page layout that shows a message instead of failing: bad data or a bug never blanks the app."""

    def layout(*args: Any, **kwargs: Any) -> Any:
        try:
            return ui.bounded(build(*args, **kwargs))
        except InputError as exc:
            return ui.bounded(no_data(redact(str(exc), current())))
        except Exception:
            log.exception("page layout failed")
            return no_data("Internal error while building this page; the server log has the details.")

    return layout


def page_frame(page: str, title: str, summary: str, decoded: Any, registry: Any, body: list[Any]) -> html.Div:
    """What every page with the filter bar shows around its own ``body``: navbar, title, notices, filter bar.

    ``decoded`` is the page's decoded URL (its state, and the notices saying what was ignored).
    """
    state = decoded.state
    return html.Div([
        ui.navbar(page, state, registry),
        dbc.Container([
            ui.page_head(title, summary),
            ui.notices(decoded.notices, decoded.info),
            filter_bar.layout(state, registry.get(state.dataset)),
            *body,
        ], fluid=True, className="pb-4"),
    ], className=f"page page-{page}")


@guarded
def projection_layout(page: str, query: Mapping[str, Any]) -> Any:
    """The whole page for ``query``: notices for what was ignored, controls set to the state.

    A view the cache already holds (most first visits: ``boot.js`` asked for it as the HTML
    arrived, app.web.boot) is laid out here at once, and the view store says so (``filled``),
    so the render callback has nothing to do: one round trip fewer before the figures are drawn.
    Otherwise the render callback computes it while the page shows its controls and a spinner.
    """
    services = current()
    decoded = decode(page, query, services.registry)
    state = decoded.state
    registry = services.registry
    ds = registry.get(state.dataset)
    spec = SPECS[page]
    search = encode(state, registry)
    csv = table_url(get_relative_path("/"), page, search)
    area = steps = reading = None
    command = cli_command(state, registry.entry(state.dataset).path, registry.root)
    exported: str | None = csv
    ready = compute.cached_view(services, state)
    if ready is not None:  # as the render callback would lay it out (an empty view has no CSV to download)
        area, steps, reading, command, exported = view_children(state, ready, services)
    return page_frame(page, spec.title, spec.summary, decoded, registry, [
        ui.options_row(spec, state, ds),
        ui.actions(command, csv, csv_active=exported is not None),
        dcc.Store(id=ids.VIEW_QUERY, data={"page": page, "search": search, "filled": ready is not None}),
        html.Span(id=ids.CANONICAL_URL, hidden=True),
        html.Div(steps, id=ids.NEXT_STEPS),
        dcc.Loading(html.Div(area, id=ids.VIEW_AREA, className="view-area"), type="default",
                    delay_show=ui.SPINNER_DELAY_MS, id=ids.VIEW_LOADING),
        html.Div(reading, id=ids.VIEW_NOTES),
    ])


def page_layout(page: str) -> Callable[..., Any]:
    """The layout function Dash Pages calls with the query parameters of a projection page's URL."""

    def layout(**query: Any) -> Any:
        return projection_layout(page, query)

    layout.__doc__ = f"/{page}: the {page} projection's page."
    return layout


OPEN_GROUP_MAX = 3  # a group of findings this small is listed open; a larger one opens on a click


def _finding_groups(found: list[Finding], labels: Mapping[str, str]) -> list[Any]:
    """One block per kind: its heading names the members once; the list gives each one's sentence and link."""
    blocks = []
    for kind, members in groups.by_kind(found):
        actions = {f.action for f in members if f.action}
        head: list[Any] = [html.Strong(groups.kind_title(kind)), f" ({len(members)})"]
        if len(members) > 1:  # one member: its sentence below names it and its action
            head.append(f": {groups.names(members, labels)}")
        if len(actions) == 1 and len(members) > 1:
            head.append(html.Span(f" — {actions.pop()}", className="text-muted"))
        items = [html.Li([f.text + " ", dcc.Link("show", href=get_relative_path(f.link), className="finding-link")
                          if f.link.startswith("/") else None], className="finding") for f in members]
        blocks.append(html.Details([html.Summary(head), html.Ul(items, className="mb-1 ps-3")],
                                   open=len(members) <= OPEN_GROUP_MAX, className="finding-group",
                                   **ui.data_attributes(kind=kind)))
    return blocks


def _reading(summary: ViewSummary, labels: Mapping[str, str]) -> Any:
    """"Reading this view": the view's findings grouped by kind (each said once), then the remaining notes.

    A note that states a finding (its sentence, or its group's) is not repeated under the findings.
    """
    found = []
    for doc in summary.findings:
        try:
            found.append(groups.from_json(doc))
        except (TypeError, ValueError):  # a record this version does not know: its note still shows
            continue
    said = {f.text for f in found} | set(groups.notes(found, labels))
    notes = [n for n in summary.notes if n not in said]
    if not found and not notes:
        return None
    body: list[Any] = _finding_groups(found, labels)
    if notes:
        body.append(html.Ul([html.Li(n) for n in notes], className="mb-0 mt-1 view-notes-list"))
    return dbc.Card([dbc.CardHeader("Reading this view", className="py-1 small fw-semibold"),
                     dbc.CardBody(body, className="py-2 small")], className="mb-3", id=ids.NOTES_CARD)


def _steps_panel(state: State, summary: ViewSummary, services: Services) -> Any:
    axis = str(state.options.get("group_by"))
    steps = next_steps(summary.rows, axis, state, services.registry)
    heads = {"surface": ("Weakest → surface", "where does accuracy break down?"),
             "compression": ("Most token-hungry → compression", "is the reasoning efficient?"),
             "hazard": ("Elevated truncation → hazard", "is there a context wall?")}
    cols = []
    for page, (title, why) in heads.items():
        items = [html.Li(dcc.Link(s.text, href=get_relative_path(SPECS[page].path) + s.search,
                                  className="next-step", id=ids.next_step(page, i)))
                 for i, s in enumerate(steps[page])]
        if not items:
            items = [html.Li("none above 5% truncation" if page == "hazard" else "—", className="text-muted")]
        cols.append(dbc.Col([html.Div(title, className="fw-semibold small"),
                             html.Div(why, className="text-muted small"),
                             html.Ul(items, className="small mb-0 ps-3")], md=4))
    return dbc.Card([dbc.CardHeader("Next steps", className="py-1 small fw-semibold"),
                     dbc.CardBody(dbc.Row(cols), className="py-2")], className="mb-3", id=ids.NEXT_STEPS_CARD)


def view_children(state: State, view: View, services: Services) -> tuple[Any, ...]:
    """(picker + figure cards or empty state, next steps, notes, CLI line, CSV link) for a view."""
    summary, run = view.summary, view.run
    search = encode(state, services.registry)
    prefix = get_relative_path("/")
    command = cli_command(run, services.registry.entry(state.dataset).path, services.registry.root)
    csv = table_url(prefix, state.page, search)
    labels = services.registry.get(state.dataset).eval_labels() if state.split == "eval_id" else None
    picker = ui.split_picker(state.split, view.splits, run.filters.get(state.split, [None])[0], labels) \
        if state.split and view.splits else None
    if summary.status is not ViewStatus.OK:  # nothing to export either: the CSV link goes inactive
        return ui.bounded([picker, ui.empty_state(redact(summary.message, services))]), None, None, command, None
    cards = [picker]
    for index, fig in enumerate(summary.figures):
        name = state.page if fig.title is None else f"{state.page}-{fig.title}"
        cards.append(ui.figure_card(state.page, index, fig.title, figure_url(prefix, state.page, index, search),
                                    fig.width, fig.height, safe_name(name, "figure")))
    steps = _steps_panel(state, summary, services) if SPECS[state.page].next_steps else None
    reading = _reading(summary, services.registry.get(state.dataset).eval_labels())
    return ui.bounded(cards), ui.bounded(steps), ui.bounded(reading), command, csv
