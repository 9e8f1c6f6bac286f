"""Layout pieces shared by the pages: navigation, notices, options, actions, figure cards.

Components only; what they show comes from a decoded :class:`State`, the declared
projections (:data:`app.projections.spec.SPECS`) and the dataset's own lists
(dimensions, views). The filter bar is :mod:`app.web.filter_bar`.
"""

from __future__ import annotations

from typing import Any, Sequence

import dash_bootstrap_components as dbc
from dash import dcc, get_relative_path, html
from dash.development.base_component import Component

from app import bounds
from app.engine import Dataset
from app.engine.stats import TRUNCATION_MODES
from app.projections.base import NONE
from app.projections.spec import Option, OptionKind, ProjectionSpec, declared_pages
from app.web import ids
from app.web.registry import Registry
from app.web.state import OVERVIEW, State, carry, linkable, value_text

WIDE, MIN_WIDTH = 1600, 1000  # grids wider than WIDE keep their width (and scroll); others fit the window
TEXT_PROPS = ("children", "title", "placeholder", "label")  # the props a page shows as text
OPTION_TEXT = ("label", "search")  # the text of a dropdown's or radio group's options
WHOLE_TEXT = (ids.CLI_COMMAND,)  # shown to be copied whole: built from the link, which is bounded itself
# a spinner appears only once a view or figure has taken this long: a quicker answer shows no flash of one
SPINNER_DELAY_MS = 200


def _cut(value: Any, limit: int) -> Any:
    return value[: limit - 1] + "…" if isinstance(value, str) and len(value) > limit else value


def bounded(tree: Any, limit: int | None = None) -> Any:
    """``tree`` with every text it shows cut to ``limit`` characters (default ``bounds.MAX_TEXT_CHARS``).

    A dataset written by another tool may hold a 1 MB label; a page copies a label into a
    table cell, a dropdown option, a legend and a note, so one long name made every layout
    megabytes. Only what is shown is cut (``TEXT_PROPS`` and the options' label and search
    text), never an id, a value or a link, so every control keeps working. Walks the tree
    without recursion and changes it in place.
    """
    limit = bounds.MAX_TEXT_CHARS if limit is None else limit
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, (list, tuple)):
            stack.extend(node)
            continue
        if not isinstance(node, Component) or getattr(node, "id", None) in WHOLE_TEXT:
            continue
        for prop in TEXT_PROPS:
            value = getattr(node, prop, None)
            if isinstance(value, str) and len(value) > limit:
                setattr(node, prop, _cut(value, limit))
            elif isinstance(value, (list, tuple)):
                if any(isinstance(v, str) and len(v) > limit for v in value):
                    value = [_cut(v, limit) for v in value]
                    setattr(node, prop, value)
                stack.extend(v for v in value if not isinstance(v, str))
            elif isinstance(value, Component):
                stack.append(value)
        options = getattr(node, "options", None)
        if isinstance(options, list) and any(isinstance(o, dict) for o in options):
            cut = [{k: (_cut(v, limit) if k in OPTION_TEXT else v) for k, v in o.items()} if isinstance(o, dict)
                   else o for o in options]
            node.options = cut  # type: ignore[attr-defined]  # the components that have options
    return tree


def pages() -> list[tuple[str, str, str]]:
    """(title, page name, path) of every page, in navbar order: the overview, then each declared page."""
    return [("Overview", OVERVIEW, "/")] + [(s.title, s.name, s.path) for s in declared_pages()]


def page_href(path: str, search: str = "") -> str:
    """A link inside the app, honouring URL_BASE_PATHNAME."""
    return get_relative_path(path) + search


def navbar(active: str, state: State, registry: Registry) -> dbc.Navbar:
    """Brand, dataset, and one link per page carrying the dataset, filters and truncation."""
    links = []
    for title, name, path in pages():
        search = carry(state, name, registry)
        links.append(dbc.NavItem(dcc.Link(title, href=page_href(path, search), id=ids.nav(name),
                                          className="nav-link" + (" active" if name == active else ""))))
    entry = registry.entry(state.dataset)
    right: list[Any] = [html.Span(entry.title, className="navbar-text text-light small me-2",
                                  title=f"dataset {entry.name}")]
    if len(registry.entries) > 1:
        right = [dbc.Select(id=ids.DATASET_SELECT, value=state.dataset, size="sm", className="dataset-select",
                            options=[{"label": e.title, "value": e.name} for e in registry.entries])]
    return dbc.Navbar(
        dbc.Container([
            dcc.Link("Profile", href=page_href("/", carry(state, OVERVIEW, registry)), className="navbar-brand"),
            dbc.Nav(links, navbar=True, className="me-auto"),
            html.Div(right, className="d-flex align-items-center"),
        ], fluid=True),
        color="dark", dark=True, className="mb-3", id=ids.NAVBAR,
    )


def page_head(title: str, summary: str) -> html.Div:
    """A page's title with its one-line summary beside it."""
    return html.Div([html.H2(title, className="h4 mb-0 me-3"), html.Span(summary, className="text-muted small")],
                    className="d-flex align-items-baseline flex-wrap mb-2 page-head")


def notices(items: Sequence[str], info: Sequence[str] = ()) -> html.Div:
    """What in the URL was ignored and what is shown instead; then choices made for the user."""
    alerts = []
    if items:
        alerts.append(dbc.Alert([
            html.Strong("Some of the link could not be used; showing the nearest valid view. "),
            html.Ul([html.Li(t) for t in items], className="mb-0 mt-1"),
        ], color="warning", dismissable=True, className="py-2"))
    alerts += [dbc.Alert(t, color="info", dismissable=True, className="py-2") for t in info]
    return html.Div(alerts, id=ids.NOTICES)


def field_label(text: str, target: str, hint: str) -> dbc.Label:
    """A control's label with a '?' that shows ``hint`` on hover."""
    return dbc.Label([text, html.Span("?", title=hint, className="hint")], html_for=target,
                     className="small fw-semibold mb-1")


def _option_control(opt: Option, value: Any, ds: Dataset, state: State) -> Any:
    cid = ids.option(opt.name)
    if opt.kind in (OptionKind.DIM, OptionKind.DIM_OR_NONE):
        dims = [d for d in ds.dimension_names if d not in opt.exclude]
        options = ([{"label": "none", "value": NONE}] if opt.kind is OptionKind.DIM_OR_NONE else []) + \
                  [{"label": d, "value": d} for d in dims]
        return dcc.Dropdown(id=cid, options=options, value=value, clearable=False, className="opt-dropdown")
    if opt.kind is OptionKind.CHOICE:
        return dbc.RadioItems(id=cid, options=[{"label": c, "value": c} for c in opt.choices], value=value,
                              inline=True, className="small pt-1")
    if opt.kind is OptionKind.INT:
        return dbc.Input(id=cid, type="number", value=value, min=opt.minimum, max=opt.maximum, step=1,
                         debounce=True, size="sm", style={"width": "7rem"})
    tasks = state.filters.get("base_task")
    views = [v for v in ds.meta.views_2d if (not tasks or v.base_task in tasks) and linkable(v.name)]
    return dcc.Dropdown(id=cid, options=[{"label": v.name, "value": v.name} for v in views],
                        value=list(value), multi=True, debounce=True, placeholder="every view of the tasks",
                        className="opt-dropdown-wide")


def options_row(spec: ProjectionSpec, state: State, ds: Dataset) -> dbc.Row:
    """The page's own options, then the truncation mode shared by every projection."""
    cols = []
    for opt in spec.page_options:
        cols.append(dbc.Col([field_label(opt.label, str(opt.name), f"{opt.help} (CLI {opt.cli_flag})"),
                             _option_control(opt, state.options[opt.name], ds, state)], width="auto"))
    cols.append(dbc.Col([
        field_label("Truncation", "truncation", "failure: a truncated answer counts as wrong (default); "
                    "separate: left out of accuracy and shown on its own (legacy)"),
        dbc.RadioItems(id=ids.OPT_TRUNCATION, options=[{"label": m, "value": m} for m in TRUNCATION_MODES],
                       value=state.truncation, inline=True, className="small pt-1"),
    ], width="auto"))
    return dbc.Row(cols, className="g-3 mb-2 align-items-end options-row")


def actions(command: str, csv_href: str | None, csv_active: bool = True) -> html.Div:
    """Copy link, copy CLI command (shown), download CSV (a page without a table passes None: no button;
    ``csv_active=False``: the button is there but links nowhere, as for a view with nothing to export).
    """
    href = csv_href if csv_active else None
    csv = [] if csv_href is None else [html.A("Download CSV", id=ids.DOWNLOAD_CSV, href=href, download="",
                                              role="button", className="btn btn-outline-secondary btn-sm")]
    return html.Div([
        dbc.ButtonGroup([
            html.Button("Copy link", id=ids.COPY_LINK, className="btn btn-outline-secondary btn-sm js-copy",
                        title="copy this page's URL: it reopens exactly this view", **_data(copy="link")),
            html.Button("Copy as CLI command", id=ids.COPY_CLI, className="btn btn-outline-secondary btn-sm js-copy",
                        title="copy the analyze.py line that writes this figure",
                        **_data(copy=f"#{ids.CLI_COMMAND}")),
            *csv,
        ], className="me-2"),
        html.Code(command, id=ids.CLI_COMMAND, className="cli-command", title="the equivalent analyze.py line"),
    ], className="actions d-flex align-items-center flex-wrap gap-2 mb-2")


def split_picker(split: str, values: list[Any], shown: Any, labels: dict[str, str] | None = None) -> html.Div:
    """One figure per value of the split: buttons (or a dropdown when there are many) choose which."""
    labels = labels or {}
    options = [{"label": labels.get(value_text(v), value_text(v)), "value": value_text(v)} for v in values]
    cid = ids.SPLIT_SHOW
    if len(values) <= 16:
        control = dbc.RadioItems(id=cid, options=options, value=value_text(shown), inline=True,
                                 className="btn-group flex-wrap split-picker", inputClassName="btn-check",
                                 labelClassName="btn btn-outline-primary btn-sm",
                                 labelCheckedClassName="active")
    else:
        control = dcc.Dropdown(id=cid, options=options, value=value_text(shown), clearable=False,
                               className="opt-dropdown")
    return html.Div([dcc.Store(id=ids.SPLIT_SHOWN, data=value_text(shown)),
                     html.Span(f"{split}:", className="small fw-semibold me-2"), control,
                     html.Span(f"one figure per value ({len(values)})", className="small text-muted ms-2")],
                    className="d-flex align-items-center flex-wrap mb-2", id=ids.SPLIT_PICKER)


def figure_card(page: str, index: int, title: str | None, src: str, width: int, height: int,
                filename: str) -> dbc.Card:
    """One figure: its title, PNG button, and a graph whose JSON the browser fetches from ``src``."""
    header = dbc.CardHeader(html.Div([
        html.Span(title or "", className="fw-semibold"),
        html.Button("PNG", className="btn btn-outline-secondary btn-sm js-png", id=ids.png(index),
                    title=f"download this figure as a {width}×{height} PNG",
                    **_data(width=str(width), height=str(height), filename=filename)),
    ], className="d-flex justify-content-between align-items-center"), className="py-1")
    graph = dcc.Graph(id=ids.graph(page, index), figure=_placeholder_figure(),
                      config={"displaylogo": False, "responsive": True,
                              "toImageButtonOptions": {"format": "png", "filename": filename,
                                                       "width": width, "height": height}},
                      style={"height": f"{height}px", "minWidth": f"{width if width > WIDE else MIN_WIDTH}px"},
                      className="profile-graph")
    return dbc.Card([header, dbc.CardBody([  # never narrower than designed: wide grids scroll sideways
        dcc.Store(id=ids.figure_src(page, index), data=src),
        dcc.Loading(graph, type="circle", delay_show=SPINNER_DELAY_MS,
                    overlay_style={"visibility": "visible", "opacity": 0.4}),
    ], className="p-1 figure-scroll")], className="mb-3 figure-card")


def _placeholder_figure() -> dict[str, Any]:
    return {"data": [], "layout": {"xaxis": {"visible": False}, "yaxis": {"visible": False},
                                   "annotations": [{"text": "drawing…", "showarrow": False,
                                                    "font": {"size": 16, "color": "#888"}}]}}


def empty_state(message: str) -> dbc.Alert:
    """What a view with nothing to draw shows instead: the projection's own sentence, then what to try."""
    return dbc.Alert([html.H5("Nothing to draw for this selection", className="alert-heading"),
                      html.P(message, className="mb-1"),
                      html.P("Loosen the filters, choose other options, or see the Overview for what the dataset "
                             "holds.", className="mb-0 small")], color="info", id=ids.EMPTY_STATE)


def _data(**attributes: str) -> dict[str, Any]:
    """``data-*`` attributes for an html component (typed as Any: Dash's stubs do not list them)."""
    return {f"data-{name}": value for name, value in attributes.items()}


data_attributes = _data  # the same, for other modules (the probe keys each completion by data-row)
